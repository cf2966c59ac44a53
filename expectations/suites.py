"""The auditors' suites: Great Expectations suites built in code, one per audit table.

Four areas, as docs/auditors.md explains them: allocation, P&L integrity, ledger and
extracts. Each expectation names the check it belongs to (`meta.check`, one Dagster
asset check per check) and the sentence that explains a failing row to an auditor
(`meta.says`, formatted with that row's columns and the settings). Severity is GX's
own: critical is an error that blocks publication, warning is a warning.
"""

from __future__ import annotations

# GX's usage statistics are switched off by `oasis` (GX_ANALYTICS_ENABLED in
# orchestration/cli.py's TOOL_ENVIRONMENT), not by importing this module; GX 1.24 ships
# no sender anyway (tests/orchestration/test_hostile_run.py traces every connection).
import great_expectations as gx
import great_expectations.expectations as gxe

from expectations.catalog import CHECKS_BY_NAME
from expectations.settings import HALF_CENT, AuditSettings
from pipelines.contract import DRIVERS

ERROR = "critical"
WARNING = "warning"


def _says(check: str, sentence: str) -> dict[str, str]:
    if check not in CHECKS_BY_NAME:
        raise KeyError(f"unknown check {check!r}")
    return {"check": check, "says": sentence}


def _suite(area: str, table: str, expectations: list[gxe.Expectation]) -> gx.ExpectationSuite:
    # Built whole: add_expectation() would look for a data context to save to.
    return gx.ExpectationSuite(
        name=f"{area}.{table}", expectations=expectations, meta={"area": area, "table": table}
    )


def _at_most(column: str, maximum: float, **options) -> gxe.ExpectColumnValuesToBeBetween:
    return gxe.ExpectColumnValuesToBeBetween(column=column, max_value=maximum, **options)


def allocation_suites(settings: AuditSettings) -> list[gx.ExpectationSuite]:
    band = settings.rate_band
    pools = _suite(
        "allocation",
        "pool_allocations",
        [
            gxe.ExpectColumnValuesToBeBetween(
                column="off_by",
                min_value=-HALF_CENT,
                max_value=HALF_CENT,
                strict_min=True,
                strict_max=True,
                severity=ERROR,
                meta=_says(
                    "allocation_pools_conserved",
                    "pool {pool} {period}: allocated {shared} of {amount}, off by {off_by}",
                ),
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column="rated_amount",
                severity=ERROR,
                meta=_says(
                    "allocation_every_pool_allocated",
                    "pool {pool} {period} ({amount} in raw.cost_pools) has no rate in "
                    "intermediate.int_pool_rates_computed: no P&L row carries it",
                ),
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column="amount",
                severity=ERROR,
                meta=_says(
                    "allocation_every_pool_allocated",
                    "pool {pool} {period} gave {shared} to P&L rows but is not in raw.cost_pools",
                ),
            ),
            _at_most(
                "negative_shares",
                0,
                row_condition="amount >= 0",
                condition_parser="pandas",
                severity=ERROR,
                meta=_says(
                    "allocation_no_negative_shares",
                    "pool {pool} {period} of {amount} gave {negative_shares:#negative share} "
                    "to P&L rows, {negative_total} in all",
                ),
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column="driver",
                row_condition="amount > 0",
                condition_parser="pandas",
                severity=ERROR,
                meta=_says(
                    "allocation_drivers_known",
                    "pool {pool} {period} has {amount} to allocate but no driver",
                ),
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="driver",
                value_set=list(DRIVERS),
                row_condition="amount > 0",
                condition_parser="pandas",
                severity=ERROR,
                meta=_says(
                    "allocation_drivers_known",
                    "pool {pool} {period} has {amount} to allocate but its driver {driver} "
                    "is not one of the 13 drivers of METHOD.md",
                ),
            ),
            # No stated capacity gives a null shortfall, which GX skips.
            _at_most(
                "capacity_shortfall",
                0,
                severity=WARNING,
                meta=_says(
                    "allocation_capacity_covers_units_used",
                    "pool {pool} {period}: capacity_units {capacity_units} is below the "
                    "{driver_units} units of {driver} used, so the pool is spread over the "
                    "units used and no capacity is idle",
                ),
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="amount",
                min_value=0,
                severity=WARNING,
                meta=_says(
                    "allocation_pool_amounts_not_negative",
                    "pool {pool} {period} has a negative amount of {amount}: a credit, spread "
                    "over the period's {driver} like a cost",
                ),
            ),
            # No history (a pool's first period) gives a null ratio, which GX skips.
            gxe.ExpectColumnValuesToBeBetween(
                column="rate_ratio",
                min_value=1 / band,
                max_value=band,
                severity=WARNING,
                meta=_says(
                    "allocation_rates_plausible",
                    "pool {pool} {period}: rate {rate:,.4f} per unit of {driver} is "
                    "{rate_ratio:.2f} times its median of {prior_median_rate:,.4f} over "
                    "{prior_periods} earlier periods (plausible: {low_ratio:.2f} to "
                    "{rate_band:g} times)",
                ),
            ),
        ],
    )
    periods = _suite(
        "allocation",
        "pool_costs_by_period",
        [
            gxe.ExpectColumnValuesToBeBetween(
                column="off_by",
                min_value=-HALF_CENT,
                max_value=HALF_CENT,
                strict_min=True,
                strict_max=True,
                severity=ERROR,
                meta=_says(
                    "allocation_pnl_carries_pool_costs",
                    "{period}: the P&L rows carry {pnl_pool_cost} of pool cost against "
                    "{pools_amount} in the period's {pools} pools, off by {off_by}",
                ),
            )
        ],
    )
    return [pools, periods]


def pnl_integrity_suites(settings: AuditSettings) -> list[gx.ExpectationSuite]:
    by_period = _suite(
        "pnl",
        "pnl_by_period",
        [
            _at_most(
                "identity_breaks",
                0,
                severity=ERROR,
                meta=_says(
                    "pnl_net_profit_identity",
                    "{period}: net profit is not revenues minus costs on {identity_breaks:#row} "
                    "of {rows}, e.g. {identity_example} (largest gap {identity_worst_gap})",
                ),
            ),
            _at_most(
                "split_breaks",
                0,
                severity=ERROR,
                meta=_says(
                    "pnl_net_profit_identity",
                    "{period}: pool cost is not its variable plus fixed part on "
                    "{split_breaks:#row} of {rows}, e.g. {split_example}",
                ),
            ),
            _at_most(
                "duplicate_row_ids",
                0,
                severity=ERROR,
                meta=_says(
                    "pnl_row_counts_match",
                    "{period}: {duplicate_row_ids:#row} of {rows} repeat a row id",
                ),
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="closed",
                value_set=[True],
                severity=ERROR,
                meta=_says(
                    "pnl_periods_closed",
                    "{period} has no cost pools, so it is not closed, yet the P&L has "
                    "{rows:#row} in it",
                ),
            ),
        ],
    )
    counts = _suite(
        "pnl",
        "pnl_row_counts",
        [
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A="pnl_rows",
                column_B="staged_rows",
                severity=ERROR,
                meta=_says(
                    "pnl_row_counts_match",
                    "{period}: the P&L has {pnl_rows} {row_kind} rows for {staged_rows} "
                    "staged {staged_label}",
                ),
            )
        ],
    )
    components = _suite(
        "pnl",
        "pnl_components",
        [
            _at_most(
                "nulls",
                0,
                severity=ERROR,
                meta=_says(
                    "pnl_cost_components_present",
                    "{component} is missing (null) on {nulls:#P&L row} of {rows}, e.g. "
                    "{null_example}",
                ),
            )
        ],
    )
    return [by_period, counts, components]


def ledger_suites(settings: AuditSettings) -> list[gx.ExpectationSuite]:
    tolerance = settings.gl_tolerance
    return [
        _suite(
            "ledger",
            "ledger_by_period",
            [
                gxe.ExpectColumnValuesToNotBeNull(
                    column="ledger_amount",
                    severity=ERROR,
                    meta=_says(
                        "ledger_reconciles",
                        "{account} {period}: gl_summary has no amount to hold the P&L's "
                        "{pnl_amount} against",
                    ),
                ),
                gxe.ExpectColumnValuesToBeBetween(
                    column="relative_difference",
                    min_value=-tolerance,
                    max_value=tolerance,
                    severity=ERROR,
                    meta=_says(
                        "ledger_reconciles",
                        "{account} {period}: P&L {pnl_amount} against {ledger_amount} in "
                        "gl_summary, off by {difference} ({relative_difference:+.2%}; "
                        "tolerance {gl_tolerance:.2%})",
                    ),
                ),
            ],
        )
    ]


def extract_suites(settings: AuditSettings) -> list[gx.ExpectationSuite]:
    columns = _suite(
        "extracts",
        "extract_columns",
        [
            gxe.ExpectColumnValuesToNotBeNull(
                column="warehouse_type",
                severity=ERROR,
                meta=_says(
                    "extracts_match_contract",
                    "raw.{table_name} has no column {column_name} (the contract wants "
                    "{contract_type})",
                ),
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column="contract_type",
                severity=ERROR,
                meta=_says(
                    "extracts_match_contract",
                    "raw.{table_name}.{column_name} ({warehouse_type}) is not in the contract",
                ),
            ),
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A="warehouse_type",
                column_B="contract_type",
                ignore_row_if="either_value_is_missing",
                severity=ERROR,
                meta=_says(
                    "extracts_match_contract",
                    "raw.{table_name}.{column_name} is {warehouse_type}; the contract says "
                    "{contract_type}",
                ),
            ),
        ],
    )
    constraints = _suite(
        "extracts",
        "extract_constraints",
        [
            _at_most(
                "violations",
                0,
                severity=ERROR,
                meta=_says(
                    "extracts_constraints_hold",
                    "raw.{table_name}: {violations:#row} of {rows} break the {constraint_name}, "
                    "e.g. {example}",
                ),
            )
        ],
    )
    values = _suite(
        "extracts",
        "extract_values",
        [
            _at_most(
                "nulls",
                0,
                row_condition="required == True",
                condition_parser="pandas",
                severity=ERROR,
                meta=_says(
                    "extracts_values_in_domain",
                    "raw.{table_name}.{column_name} is empty on {nulls:#row} of {rows} but the "
                    "contract requires a value",
                ),
            ),
            _at_most(
                "outside_domain",
                0,
                severity=ERROR,
                meta=_says(
                    "extracts_values_in_domain",
                    "raw.{table_name}.{column_name} is outside its domain on "
                    "{outside_domain:#row}, e.g. {outside_example} (allowed: {domain})",
                ),
            ),
        ],
    )
    quarantine = _suite(
        "extracts",
        "extract_quarantine",
        [
            _at_most(
                "share",
                settings.quarantine_error_share,
                severity=ERROR,
                meta=_says(
                    "extracts_quarantine_share",
                    "raw.{table_name}: {quarantined} of {records} records quarantined "
                    "({share:.2%}), above the error threshold of {quarantine_error_share:.2%}",
                ),
            ),
            _at_most(
                "share",
                settings.quarantine_warn_share,
                severity=WARNING,
                meta=_says(
                    "extracts_quarantine_share",
                    "raw.{table_name}: {quarantined} of {records} records quarantined "
                    "({share:.2%}), above the warning threshold of "
                    "{quarantine_warn_share:.2%}",
                ),
            ),
        ],
    )
    money = _suite(
        "extracts",
        "money_quarantine",
        [
            gxe.ExpectColumnValuesToBeInSet(
                column="loaded",
                value_set=[True],
                severity=ERROR,
                meta=_says(
                    "extracts_money_records_loaded",
                    "raw.{table_name}: {item_kind} {item} {period} of {amount_shown} is in "
                    "quarantine ({reasons}; {source_file} row {source_row}), so the P&L of "
                    "{period} {consequence}",
                ),
            )
        ],
    )
    return [columns, constraints, values, quarantine, money]


def all_suites(settings: AuditSettings) -> list[gx.ExpectationSuite]:
    return [
        *allocation_suites(settings),
        *pnl_integrity_suites(settings),
        *ledger_suites(settings),
        *extract_suites(settings),
    ]
