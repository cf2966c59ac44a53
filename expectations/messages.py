"""Sentences for auditors: a failing row in words, and what a passing check vouches for.

Numbers read like a statement: money with thousands separators and two decimals,
counts with thousands separators, missing values as "none".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import numpy as np

from expectations.settings import AuditSettings
from expectations.tables import PNL_COMPONENTS, AuditTable


class Shown:
    """A value that formats for people: `{x}` gives 41,230.18 or 1,234, `{n:#row}` gives
    "1 row" or "2 rows", and any other format spec is Python's."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __format__(self, spec: str) -> str:
        value = self.value
        if is_missing(value):
            return "none"
        if spec.startswith("#"):
            noun = spec[1:]
            return f"{int(value):,} {noun}{'' if int(value) == 1 else 's'}"
        if spec:
            return format(value, spec)
        if isinstance(value, bool | np.bool_):
            return "yes" if value else "no"
        if isinstance(value, int | np.integer):
            return f"{int(value):,}"
        if isinstance(value, float | np.floating | Decimal):
            return f"{float(value):,.2f}"
        return str(value)


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value) or (isinstance(value, float) and math.isnan(value))
    except (TypeError, ValueError):
        return False


def settings_context(settings: AuditSettings) -> dict[str, float]:
    return settings.as_dict() | {"low_ratio": 1 / settings.rate_band}


def failure_sentence(template: str, row: Mapping[str, Any], settings: AuditSettings) -> str:
    context = {name: Shown(value) for name, value in row.items()}
    return template.format(**(context | settings_context(settings)))


def money(value: float) -> str:
    return format(Shown(value))


# --- what a passing check vouches for -------------------------------------------------


def _frame(tables: Mapping[str, AuditTable], name: str):
    return tables[name].frame


def _pools_conserved(tables, settings) -> str:
    pools = _frame(tables, "pool_allocations")
    largest = float(pools["off_by"].abs().max()) if len(pools) else 0.0
    return (
        f"All {len(pools):,} pools of {pools['period'].nunique():,} periods add up to their "
        f"amount to the cent ({money(pools['amount'].sum())} in all; largest difference "
        f"{largest:.6f})."
    )


def _every_pool_allocated(tables, settings) -> str:
    pools = _frame(tables, "pool_allocations")
    return (
        f"Each of the {len(pools):,} pools in raw.cost_pools has a rate, and every share "
        "comes from one of them."
    )


def _no_negative_shares(tables, settings) -> str:
    pools = _frame(tables, "pool_allocations")
    positive = int((pools["amount"] >= 0).sum())
    return f"None of the {positive:,} pools with a positive amount gave a row a negative share."


def _drivers_known(tables, settings) -> str:
    pools = _frame(tables, "pool_allocations")
    positive = pools[pools["amount"] > 0]
    return (
        f"All {len(positive):,} pools with a positive amount name a known driver "
        f"({positive['driver'].nunique():,} drivers in use)."
    )


def _rates_plausible(tables, settings) -> str:
    pools = _frame(tables, "pool_allocations")
    compared = pools["rate_ratio"].dropna()
    if compared.empty:
        return "No pool has earlier periods to compare its rate with yet."
    return (
        f"All {len(compared):,} rates with history lie within {1 / settings.rate_band:.2f} to "
        f"{settings.rate_band:g} times their pool's earlier median (observed "
        f"{compared.min():.2f} to {compared.max():.2f})."
    )


def _capacity_covers_units_used(tables, settings) -> str:
    pools = _frame(tables, "pool_allocations")
    stated = int(pools["capacity_units"].notna().sum())
    if stated == 0:
        return "No pool states its capacity."
    return f"All {stated:,} pools that state their capacity used at most that many units."


def _pool_amounts_not_negative(tables, settings) -> str:
    pools = _frame(tables, "pool_allocations")
    return f"All {int(pools['amount'].notna().sum()):,} pools have an amount of at least 0."


def _pnl_carries_pool_costs(tables, settings) -> str:
    periods = _frame(tables, "pool_costs_by_period")
    return (
        f"In each of the {len(periods):,} periods the P&L rows carry the period's pool cost "
        f"to the cent ({money(periods['pnl_pool_cost'].sum())} in all)."
    )


def _net_profit_identity(tables, settings) -> str:
    rows = int(_frame(tables, "pnl_by_period")["rows"].sum())
    return (
        f"Net profit equals revenues minus costs, and pool cost its variable plus fixed part, "
        f"on all {rows:,} P&L rows."
    )


def _components_present(tables, settings) -> str:
    components = _frame(tables, "pnl_components")
    rows = int(components["rows"].max()) if len(components) else 0
    return f"All {rows:,} P&L rows carry all {len(PNL_COMPONENTS)} components."


def _row_counts_match(tables, settings) -> str:
    counts = _frame(tables, "pnl_row_counts")
    staged = counts.groupby("row_kind")["staged_rows"].sum()
    return (
        f"The P&L holds each of the {int(staged.get('invoice', 0)):,} staged invoice lines and "
        f"{int(staged.get('return', 0)):,} returns of {counts['period'].nunique():,} closed "
        "periods exactly once."
    )


def _periods_closed(tables, settings) -> str:
    periods = _frame(tables, "pnl_by_period")
    return (
        f"All {int(periods['rows'].sum()):,} P&L rows lie in the {len(periods):,} closed periods."
    )


def _ledger_reconciles(tables, settings) -> str:
    ledger = _frame(tables, "ledger_by_period")
    largest = float(ledger["relative_difference"].abs().max()) if len(ledger) else 0.0
    return (
        f"Net revenue, COGS and freight cost match gl_summary within "
        f"{float(ledger['gl_tolerance'].max()):.2%} in all {ledger['period'].nunique():,} periods "
        f"(largest gap {largest:.4%})."
    )


def _match_contract(tables, settings) -> str:
    columns = _frame(tables, "extract_columns")
    return (
        f"The {columns['table_name'].nunique():,} raw tables have the contract's columns with "
        f"the contract's types ({len(columns):,} columns, the loader's lineage included)."
    )


def _constraints_hold(tables, settings) -> str:
    constraints = _frame(tables, "extract_constraints")
    return f"All {len(constraints):,} keys and rules of the raw tables hold."


def _values_in_domain(tables, settings) -> str:
    values = _frame(tables, "extract_values")
    required = int(values["required"].sum())
    coded = int(values["domain"].notna().sum())
    return (
        f"The {required:,} required columns have no empty values and the {coded:,} coded "
        "columns stay within their domains."
    )


def _money_records_loaded(tables, settings) -> str:
    return (
        "No record of raw.cost_pools or raw.gl_summary is in quarantine: every pool and "
        "ledger amount of the extracts was loaded."
    )


def _quarantine_share(tables, settings) -> str:
    quarantine = _frame(tables, "extract_quarantine")
    worst = quarantine.sort_values("share", ascending=False).iloc[0]
    total = int(quarantine["quarantined"].sum())
    if total == 0:
        return f"No record of the {len(quarantine):,} tables went to quarantine."
    return (
        f"{total:,} records quarantined; every table below {settings.quarantine_warn_share:.2%} "
        f"(largest: {worst['table_name']} at {float(worst['share']):.2%})."
    )


PASSED: dict[str, Callable[[Mapping[str, AuditTable], AuditSettings], str]] = {
    "allocation_pools_conserved": _pools_conserved,
    "allocation_every_pool_allocated": _every_pool_allocated,
    "allocation_no_negative_shares": _no_negative_shares,
    "allocation_drivers_known": _drivers_known,
    "allocation_rates_plausible": _rates_plausible,
    "allocation_capacity_covers_units_used": _capacity_covers_units_used,
    "allocation_pool_amounts_not_negative": _pool_amounts_not_negative,
    "allocation_pnl_carries_pool_costs": _pnl_carries_pool_costs,
    "pnl_net_profit_identity": _net_profit_identity,
    "pnl_cost_components_present": _components_present,
    "pnl_row_counts_match": _row_counts_match,
    "pnl_periods_closed": _periods_closed,
    "ledger_reconciles": _ledger_reconciles,
    "extracts_match_contract": _match_contract,
    "extracts_constraints_hold": _constraints_hold,
    "extracts_values_in_domain": _values_in_domain,
    "extracts_money_records_loaded": _money_records_loaded,
    "extracts_quarantine_share": _quarantine_share,
}
