"""The auditors' checks by name: what each one vouches for. One Dagster asset check per
check; the expectations of suites.py name the check they belong to. No Great
Expectations import here, so Dagster can declare the checks without loading GX."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """One named check: what an auditor sees as one line, Dagster as one asset check."""

    name: str
    area: str
    title: str
    description: str


CHECKS: tuple[Check, ...] = (
    Check(
        "allocation_pools_conserved",
        "allocation",
        "Every pool conserved to the cent",
        "For every pool and period, what the P&L rows received (allocated + unallocated + "
        "unused capacity, in the audit trail marts.fct_cost_allocations) equals the pool's "
        "amount in raw.cost_pools to the cent (decided by the dbt model "
        "audit.audit_pool_conservation).",
    ),
    Check(
        "allocation_every_pool_allocated",
        "allocation",
        "Every pool of the ERP allocated, and no other",
        "Every pool and period of raw.cost_pools has its rate in "
        "intermediate.int_pool_rates_computed, and no share comes from a pool the ERP "
        "does not have.",
    ),
    Check(
        "allocation_no_negative_shares",
        "allocation",
        "No negative allocation",
        "A pool with a positive amount gives no P&L row a negative share.",
    ),
    Check(
        "allocation_drivers_known",
        "allocation",
        "Every pool with cost has a known driver",
        "Every pool with a positive amount names one of the drivers of METHOD.md.",
    ),
    Check(
        "allocation_rates_plausible",
        "allocation",
        "Rates plausible against the pool's history",
        "Each pool's rate lies within a band (OASIS_AUDIT_RATE_BAND, default 3: from a third "
        "to three times) around the median of its own earlier periods' rates. A warning: "
        "a tenfold jump may be real, but someone should look.",
    ),
    Check(
        "allocation_capacity_covers_units_used",
        "allocation",
        "Stated capacity covers the units used",
        "A pool that states its practical capacity (capacity_units) used at most that many "
        "units of its driver. Below the units used, the pool is spread over the units used "
        "(METHOD.md) and no capacity is idle, but the ERP's capacity is wrong: a warning "
        "with both numbers.",
    ),
    Check(
        "allocation_pool_amounts_not_negative",
        "allocation",
        "No pool with a negative amount",
        "Every pool of raw.cost_pools has an amount of at least 0. A negative amount (a "
        "credit) is spread over the period's rows like a cost and lowers their cost to "
        "serve: a warning.",
    ),
    Check(
        "allocation_pnl_carries_pool_costs",
        "allocation",
        "The P&L carries every period's pool cost",
        "Per period, pool_cost_total over all P&L rows equals the period's pool amounts to "
        "the cent (decided by the dbt model audit.audit_pnl_identity).",
    ),
    Check(
        "pnl_net_profit_identity",
        "pnl",
        "Net profit identity on every row",
        "On every P&L row, net profit = net revenue + freight, expedite and restocking fee "
        "revenue - COGS - freight cost - pool cost - carrying cost - bad debt, and pool cost "
        "= its variable + fixed parts. Counted per period by the dbt model "
        "audit.audit_pnl_identity (the identity is dbt_project/macros/pnl.sql's).",
    ),
    Check(
        "pnl_cost_components_present",
        "pnl",
        "Every row carries every component",
        "No revenue or cost component of the P&L is null on any row.",
    ),
    Check(
        "pnl_row_counts_match",
        "pnl",
        "P&L rows match the staged invoice lines and returns",
        "Per closed period, the P&L has one invoice row per staged invoice line and one "
        "return row per staged return, and no row id twice.",
    ),
    Check(
        "pnl_periods_closed",
        "pnl",
        "Only closed periods on the P&L",
        "Every P&L row belongs to a closed period (a period with cost pools).",
    ),
    Check(
        "ledger_reconciles",
        "ledger",
        "P&L reconciles to the general ledger",
        "Per closed period, net revenue, COGS and freight cost of the P&L's invoice rows are "
        "within the dbt var gl_tolerance (OASIS_AUDIT_GL_TOLERANCE, default 0.5%) of "
        "raw.gl_summary (decided by the dbt model audit.audit_ledger_reconciliation).",
    ),
    Check(
        "extracts_match_contract",
        "extracts",
        "Raw tables have the contract's shape",
        "Every raw table has exactly the contract's columns with the contract's types "
        "(plus the loader's _source_file, _source_row and _period).",
    ),
    Check(
        "extracts_constraints_hold",
        "extracts",
        "Keys and rules hold in the raw tables",
        "Primary keys are unique, foreign keys resolve, and the contract's row rules hold.",
    ),
    Check(
        "extracts_values_in_domain",
        "extracts",
        "Required values present, domains respected",
        "Required columns have no nulls and coded columns hold only their domain's values.",
    ),
    Check(
        "extracts_money_records_loaded",
        "extracts",
        "No cost pool or ledger record in quarantine",
        "No record of raw.cost_pools or raw.gl_summary went to raw.quarantine, whatever the "
        "quarantine share: a quarantined pool leaves its period's P&L short of that money, "
        "and a quarantined ledger amount leaves the reconciliation blind to it. An error "
        "naming the pool or account, the period and the amount.",
    ),
    Check(
        "extracts_quarantine_share",
        "extracts",
        "Quarantine below thresholds",
        "The share of each table's records that went to raw.quarantine is below "
        "OASIS_AUDIT_QUARANTINE_WARN (default 1%, a warning) and OASIS_AUDIT_QUARANTINE_ERROR "
        "(default 5%, an error).",
    ),
)

CHECKS_BY_NAME = {check.name: check for check in CHECKS}
