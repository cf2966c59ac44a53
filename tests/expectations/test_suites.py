"""The auditors' suites: silent on the clean warehouse, and each tampering caught by the
intended expectation with a sentence an auditor understands."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from expectations.catalog import CHECKS
from expectations.runner import AuditResult, audit_warehouse, run_audit
from expectations.settings import AuditSettings
from expectations.suites import all_suites
from tests.conftest import BuiltWarehouse

Tamper = Callable[..., Path]


def sentences(result: AuditResult, check: str) -> list[str]:
    return [finding.sentence for finding in result.check(check).findings]


def failed(result: AuditResult) -> dict[str, str]:
    return {c.check.name: c.status for c in result.checks if not c.passed}


def only_failure_sentences(path: Path, check: str, status: str) -> list[str]:
    """The sentences of `check` on the tampered warehouse at `path`, where it must be the one
    check that fails, with `status`: the tampering caught by the intended check alone."""
    result = audit_warehouse(path)
    assert failed(result) == {check: status}
    return sentences(result, check)


def latest_pool(built_warehouse: BuiltWarehouse, pool: str) -> tuple[str, Decimal]:
    return built_warehouse.query(
        "select period, amount from raw.cost_pools where pool = ? order by period desc limit 1",
        [pool],
    )[0]


# --- the clean warehouse ------------------------------------------------------------------


def test_every_check_passes_on_the_clean_warehouse(clean_audit: AuditResult) -> None:
    assert failed(clean_audit) == {}
    assert [c.check.name for c in clean_audit.checks] == [c.name for c in CHECKS]
    conserved = clean_audit.check("allocation_pools_conserved").summary
    assert re.match(
        r"All [\d,]+ pools of \d+ periods add up to their amount to the cent", conserved
    )


def test_every_expectation_names_its_check_and_its_sentence() -> None:
    names = {check.name for check in CHECKS}
    for suite in all_suites(AuditSettings()):
        for expectation in suite.expectations:
            assert expectation.meta["check"] in names
            assert expectation.meta["says"]
            assert str(getattr(expectation.severity, "value", expectation.severity)) in {
                "critical",
                "warning",
            }


def test_the_line_level_fact_is_aggregated_by_duckdb_not_loaded(
    clean_audit: AuditResult, built_warehouse: BuiltWarehouse
) -> None:
    pnl_rows = built_warehouse.scalar("select count(*) from marts.fct_invoice_line_pnl")
    periods = len(clean_audit.periods)
    assert len(clean_audit.tables["pnl_by_period"].frame) == periods
    assert max(len(t.frame) for t in clean_audit.tables.values()) < pnl_rows / 10


# --- allocation ---------------------------------------------------------------------------


def test_a_pool_one_cent_above_its_shares_fails_conservation(
    built_warehouse: BuiltWarehouse, tampered: Tamper
) -> None:
    period, amount = latest_pool(built_warehouse, "customer_service")
    path = tampered(
        "update raw.cost_pools set amount = amount + 0.01 "
        f"where period = '{period}' and pool = 'customer_service'"
    )

    result = audit_warehouse(path)

    conservation = result.check("allocation_pools_conserved")
    assert conservation.status == "error"
    assert conservation.findings[0].expectation == "expect_column_values_to_be_in_set"
    assert sentences(result, "allocation_pools_conserved") == [
        f"pool customer_service {period}: allocated {amount:,.2f} of "
        f"{amount + Decimal('0.01'):,.2f}, off by 0.01"
    ]


def test_a_pnl_row_one_cent_off_fails_the_periods_pool_cost(
    built_warehouse: BuiltWarehouse, tampered: Tamper
) -> None:
    # Given one invoice row with a cent more pool cost (its own identities kept intact)
    row_id, period = built_warehouse.query(
        "select row_id, period from marts.fct_invoice_line_pnl where row_kind = 'invoice' "
        "order by row_id limit 1"
    )[0]
    pools, count = built_warehouse.query(
        "select sum(amount), count(*) from raw.cost_pools where period = ?", [period]
    )[0]
    path = tampered(
        "update marts.fct_invoice_line_pnl set pool_cost_total = pool_cost_total + 0.01, "
        "pool_cost_fixed = pool_cost_fixed + 0.01, net_profit = net_profit - 0.01 "
        f"where row_id = '{row_id}'"
    )

    assert only_failure_sentences(path, "allocation_pnl_carries_pool_costs", "error") == [
        f"{period}: the P&L rows carry {pools + Decimal('0.01'):,.2f} of pool cost against "
        f"{pools:,.2f} in the period's {count} pools, off by -0.01"
    ]


def test_a_pool_dropped_from_the_rates_is_allocated_nowhere(
    built_warehouse: BuiltWarehouse, tampered: Tamper
) -> None:
    period, amount = latest_pool(built_warehouse, "packing")
    path = tampered(
        "delete from intermediate.int_pool_rates_computed "
        f"where period = '{period}' and pool = 'packing'"
    )

    result = audit_warehouse(path)

    assert result.check("allocation_every_pool_allocated").findings[0].expectation == (
        "expect_column_values_to_not_be_null"
    )
    assert sentences(result, "allocation_every_pool_allocated") == [
        f"pool packing {period} ({amount:,.2f} in raw.cost_pools) has no rate in "
        "intermediate.int_pool_rates_computed: no P&L row carries it"
    ]
    assert sentences(result, "allocation_pools_conserved") == [
        f"pool packing {period}: allocated 0.00 of {amount:,.2f}, off by {amount:,.2f}"
    ]


def test_a_pool_dropped_from_the_erp_is_reported_with_its_shares(
    built_warehouse: BuiltWarehouse, tampered: Tamper
) -> None:
    period, amount = latest_pool(built_warehouse, "packing")
    path = tampered(f"delete from raw.cost_pools where period = '{period}' and pool = 'packing'")

    result = audit_warehouse(path)

    assert sentences(result, "allocation_every_pool_allocated") == [
        f"pool packing {period} gave {amount:,.2f} to P&L rows but is not in raw.cost_pools"
    ]
    assert result.check("allocation_pnl_carries_pool_costs").status == "error"


def test_a_pool_with_an_unknown_driver_is_an_error(
    built_warehouse: BuiltWarehouse, tampered: Tamper
) -> None:
    period, amount = latest_pool(built_warehouse, "packing")
    path = tampered(
        f"update raw.cost_pools set driver = 'headcount' where period = '{period}' "
        "and pool = 'packing'"
    )

    result = audit_warehouse(path)

    assert result.check("allocation_drivers_known").findings[0].expectation == (
        "expect_column_values_to_be_in_set"
    )
    assert sentences(result, "allocation_drivers_known") == [
        f"pool packing {period} has {amount:,.2f} to allocate but its driver headcount is not "
        "one of the 13 drivers of METHOD.md"
    ]


def test_a_negative_share_of_a_positive_pool_is_an_error(
    built_warehouse: BuiltWarehouse, tampered: Tamper
) -> None:
    row_id, period = built_warehouse.query(
        "select row_id, period from intermediate.int_pnl_rows_with_driver_units "
        "where units_orders > 0 order by row_id limit 1"
    )[0]
    path = tampered(
        "update intermediate.int_pnl_rows_with_driver_units set units_orders = -units_orders "
        f"where row_id = '{row_id}'"
    )

    result = audit_warehouse(path)

    [sentence] = sentences(result, "allocation_no_negative_shares")
    assert sentence.startswith(f"pool order_processing {period} of ")
    assert " gave 1 negative share to P&L rows, -" in sentence


def test_a_tenfold_rate_jump_is_a_warning_not_an_error(
    built_warehouse: BuiltWarehouse, tampered: Tamper
) -> None:
    # Given service minutes recorded in tens of minutes in the last period: the units
    # drop tenfold and the rate jumps tenfold, while every share stays the same.
    period, _ = latest_pool(built_warehouse, "customer_service")
    path = tampered(
        "update intermediate.int_pnl_rows_with_driver_units "
        f"set units_service_minutes = units_service_minutes / 10 where period = '{period}'",
        "update intermediate.int_pool_rates_computed set rate = rate * 10, "
        f"units_used = units_used / 10 where period = '{period}' and pool = 'customer_service'",
    )

    [sentence] = only_failure_sentences(path, "allocation_rates_plausible", "warning")
    match = re.fullmatch(
        rf"pool customer_service {period}: rate [\d,.]+ per unit of service_minutes is "
        r"([\d.]+) times its median of [\d,.]+ over \d+ earlier periods "
        r"\(plausible: 0\.33 to 3 times\)",
        sentence,
    )
    assert match and 7 < float(match.group(1)) < 14


def test_the_rate_band_is_a_setting(clean_audit: AuditResult, built_warehouse) -> None:
    import duckdb

    with duckdb.connect(str(built_warehouse.path), read_only=True) as connection:
        strict = run_audit(connection, AuditSettings(rate_band=1.001))
    assert strict.check("allocation_rates_plausible").status == "warning"
    assert "(plausible: 1.00 to 1.001 times)" in strict.check("allocation_rates_plausible").summary


# --- P&L integrity --------------------------------------------------------------------------


def test_a_null_cost_component_is_an_error_naming_the_row(
    built_warehouse: BuiltWarehouse, tampered: Tamper
) -> None:
    row_id, rows = built_warehouse.query(
        "select min(row_id) filter (where row_kind = 'invoice'), count(*) "
        "from marts.fct_invoice_line_pnl"
    )[0]
    path = tampered(f"update marts.fct_invoice_line_pnl set cogs = null where row_id = '{row_id}'")

    result = audit_warehouse(path)

    # The null is reported once, where it belongs, not also as a broken identity.
    assert failed(result) == {"pnl_cost_components_present": "error"}
    assert sentences(result, "pnl_cost_components_present") == [
        f"cogs is missing (null) on 1 P&L row of {rows:,}, e.g. {row_id}"
    ]


def test_a_broken_net_profit_is_counted_per_period(
    built_warehouse: BuiltWarehouse, tampered: Tamper
) -> None:
    row_id, period = built_warehouse.query(
        "select row_id, period from marts.fct_invoice_line_pnl order by row_id limit 1"
    )[0]
    rows = built_warehouse.scalar(
        "select count(*) from marts.fct_invoice_line_pnl where period = ?", [period]
    )
    path = tampered(
        "update marts.fct_invoice_line_pnl set net_profit = net_profit + 1 "
        f"where row_id = '{row_id}'"
    )

    result = audit_warehouse(path)

    assert sentences(result, "pnl_net_profit_identity") == [
        f"{period}: net profit is not revenues minus costs on 1 row of {rows:,}, e.g. {row_id} "
        "(largest gap 1.00)"
    ]


def test_a_missing_invoice_line_breaks_the_row_counts(
    built_warehouse: BuiltWarehouse, tampered: Tamper
) -> None:
    row_id, period = built_warehouse.query(
        "select row_id, period from marts.fct_invoice_line_pnl where row_kind = 'invoice' "
        "order by row_id limit 1"
    )[0]
    staged = built_warehouse.scalar(
        "select count(*) from marts.fct_invoice_line_pnl where row_kind = 'invoice' and period = ?",
        [period],
    )
    path = tampered(f"delete from marts.fct_invoice_line_pnl where row_id = '{row_id}'")

    result = audit_warehouse(path)

    assert result.check("pnl_row_counts_match").findings[0].expectation == (
        "expect_column_pair_values_to_be_equal"
    )
    assert sentences(result, "pnl_row_counts_match") == [
        f"{period}: the P&L has {staged - 1:,} invoice rows for {staged:,} staged invoice lines"
    ]


def test_a_row_in_a_period_without_pools_is_an_error(
    built_warehouse: BuiltWarehouse, tampered: Tamper
) -> None:
    path = tampered(
        "update marts.fct_invoice_line_pnl set period = '2099-01' where row_id = "
        "(select min(row_id) from marts.fct_invoice_line_pnl where row_kind = 'unattached')"
    )

    result = audit_warehouse(path)

    assert sentences(result, "pnl_periods_closed") == [
        "2099-01 has no cost pools, so it is not closed, yet the P&L has 1 row in it"
    ]


# --- ledger ---------------------------------------------------------------------------------


def test_a_ledger_total_off_by_one_percent_fails_reconciliation(
    clean_audit: AuditResult, tampered: Tamper
) -> None:
    ledger = clean_audit.tables["ledger_by_period"].frame
    row = ledger[ledger["account"] == "net_revenue"].iloc[-1]
    path = tampered(
        "update raw.gl_summary set amount = amount * 1.01 "
        f"where period = '{row['period']}' and account = 'net_revenue'"
    )

    [sentence] = only_failure_sentences(path, "ledger_reconciles", "error")
    assert sentence.startswith(
        f"net_revenue {row['period']}: P&L {row['pnl_amount']:,.2f} against "
        f"{row['ledger_amount'] * 1.01:,.2f} in gl_summary, off by -"
    )
    assert sentence.endswith("(-0.99%; tolerance 0.50%)")


def test_a_missing_ledger_account_fails_reconciliation(
    clean_audit: AuditResult, tampered: Tamper
) -> None:
    period = clean_audit.periods[0]
    path = tampered(f"delete from raw.gl_summary where period = '{period}' and account = 'cogs'")

    result = audit_warehouse(path)

    [sentence] = sentences(result, "ledger_reconciles")
    assert sentence.startswith(f"cogs {period}: gl_summary has no amount to hold the P&L's ")


# --- extracts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "check", "sentence"),
    [
        pytest.param(
            "alter table raw.invoices drop column currency",
            "extracts_match_contract",
            "raw.invoices has no column currency (the contract wants VARCHAR)",
            id="missing column",
        ),
        pytest.param(
            "alter table raw.products alter column list_price type double",
            "extracts_match_contract",
            "raw.products.list_price is DOUBLE; the contract says DECIMAL(18,6)",
            id="wrong type",
        ),
        pytest.param(
            "update raw.invoices set order_channel = 'telex' "
            "where invoice_id = (select min(invoice_id) from raw.invoices)",
            "extracts_values_in_domain",
            "raw.invoices.order_channel is outside its domain on 1 row, e.g. telex "
            "(allowed: web, edi, phone, email, fax, rep)",
            id="value outside domain",
        ),
    ],
)
def test_a_raw_table_off_contract_is_an_error(
    tampered: Tamper, statement: str, check: str, sentence: str
) -> None:
    result = audit_warehouse(tampered(statement))

    assert result.check(check).status == "error"
    assert sentence in sentences(result, check)


def test_a_duplicate_key_is_an_error(built_warehouse: BuiltWarehouse, tampered: Tamper) -> None:
    customer, customers = built_warehouse.query(
        "select min(customer_id), count(*) from raw.customers"
    )[0]
    path = tampered(
        f"insert into raw.customers select * from raw.customers where customer_id = '{customer}'"
    )

    result = audit_warehouse(path)

    assert sentences(result, "extracts_constraints_hold") == [
        f"raw.customers: 2 rows of {customers + 1:,} break the primary key (customer_id), "
        f"e.g. {customer}"
    ]


def _quarantine(records: int) -> str:
    return (
        "insert into raw.quarantine by name select 'returns' as table_name, "
        "'returns-bad.csv' as source_file, range + 1 as source_row, 'quantity' as column_name, "
        "'0' as bad_value, 'quantity must be above zero' as reason, '{}' as record_json, "
        "now() as loaded_at "
        f"from range({records})"
    )


@pytest.mark.parametrize(
    ("share", "status", "threshold"),
    [
        (0.02, "warning", "the warning threshold of 1.00%"),
        (0.10, "error", "the error threshold of 5.00%"),
    ],
)
def test_the_quarantine_share_warns_then_errs(
    built_warehouse: BuiltWarehouse, tampered: Tamper, share: float, status: str, threshold: str
) -> None:
    loaded = built_warehouse.scalar("select count(*) from raw.returns")
    records = round(loaded * share / (1 - share))
    path = tampered(_quarantine(records))

    [sentence] = only_failure_sentences(path, "extracts_quarantine_share", status)
    assert sentence == (
        f"raw.returns: {records:,} of {loaded + records:,} records quarantined "
        f"({records / (loaded + records):.2%}), above {threshold}"
    )


def _quarantined(table: str, record: dict[str, str], reason: str, period: str) -> str:
    """A record of `table` the loader put in quarantine instead of raw.<table>."""
    return (
        "insert into raw.quarantine by name select "
        f"'{table}' as table_name, '{table}-{period}.csv' as source_file, 7 as source_row, "
        "'driver' as column_name, 'headcount' as bad_value, "
        f"'{reason}' as reason, '{json.dumps(record)}' as record_json, "
        f"now() as loaded_at, '{period}' as period"
    )


def test_a_quarantined_cost_pool_is_an_error_with_its_pool_period_and_amount(
    built_warehouse: BuiltWarehouse, tampered: Tamper
) -> None:
    # Given a pool whose driver the loader did not know: one record, far below the
    # quarantine thresholds, and the period's P&L short of its 2,467.15
    period = built_warehouse.scalar("select max(period) from raw.cost_pools")
    record = {"period": period, "pool": "hr_admin", "amount": "2467.15", "driver": "headcount"}
    path = tampered(_quarantined("cost_pools", record, "driver is not a known driver", period))

    assert only_failure_sentences(path, "extracts_money_records_loaded", "error") == [
        f"raw.cost_pools: pool hr_admin {period} of 2,467.15 is in quarantine (driver is not a "
        f"known driver; cost_pools-{period}.csv row 7), so the P&L of {period} is short of it"
    ]


def test_a_quarantined_ledger_amount_is_an_error_even_when_its_amount_is_unreadable(
    built_warehouse: BuiltWarehouse, tampered: Tamper
) -> None:
    period = built_warehouse.scalar("select max(period) from raw.gl_summary")
    record = {"period": period, "account": "cogs", "amount": "n/a"}
    path = tampered(_quarantined("gl_summary", record, "amount is not a number", period))

    result = audit_warehouse(path)

    # (one record of a small table may also be above the quarantine share's warning)
    assert {name for name, status in failed(result).items() if status == "error"} == {
        "extracts_money_records_loaded"
    }
    assert sentences(result, "extracts_money_records_loaded") == [
        f"raw.gl_summary: account cogs {period} of 'n/a' is in quarantine (amount is not a "
        f"number; gl_summary-{period}.csv row 7), so the P&L of {period} cannot be reconciled "
        "with it"
    ]


def test_a_capacity_below_the_units_used_is_a_warning_with_both_numbers(
    built_warehouse: BuiltWarehouse, tampered: Tamper
) -> None:
    period, pool, driver, units_used = built_warehouse.query(
        "select period, pool, driver, units_used from intermediate.int_pool_rates_computed "
        "where capacity_units is null and units_used > 100 order by period desc, pool limit 1"
    )[0]
    path = tampered(
        "update intermediate.int_pool_rates_computed set capacity_units = units_used - 10 "
        f"where period = '{period}' and pool = '{pool}'"
    )

    assert only_failure_sentences(path, "allocation_capacity_covers_units_used", "warning") == [
        f"pool {pool} {period}: capacity_units {units_used - 10:,.2f} is below the "
        f"{units_used:,.2f} units of {driver} used, so the pool is spread over the units used "
        "and no capacity is idle"
    ]


def test_a_capacity_equal_to_the_units_used_is_not_short_by_a_rounding_error(
    built_warehouse: BuiltWarehouse, tampered: Tamper
) -> None:
    # Orders are split equally over their lines: the units used are a double sum of
    # thirds, a few 1e-13 off the whole number of orders the ERP states as capacity.
    period, pool = built_warehouse.query(
        "select period, pool from intermediate.int_pool_rates_computed "
        "where driver = 'orders' order by period desc limit 1"
    )[0]
    path = tampered(
        "update intermediate.int_pool_rates_computed "
        "set capacity_units = round(units_used), units_used = round(units_used) + 3e-13 "
        f"where period = '{period}' and pool = '{pool}'"
    )

    assert failed(audit_warehouse(path)) == {}


def test_a_negative_pool_amount_is_a_warning(
    built_warehouse: BuiltWarehouse, tampered: Tamper
) -> None:
    period, amount = latest_pool(built_warehouse, "expediting")
    path = tampered(
        f"update raw.cost_pools set amount = -amount where period = '{period}' "
        "and pool = 'expediting'"
    )

    result = audit_warehouse(path)

    outcome = result.check("allocation_pool_amounts_not_negative")
    assert outcome.status == "warning"
    assert sentences(result, "allocation_pool_amounts_not_negative") == [
        f"pool expediting {period} has a negative amount of {-amount:,.2f}: a credit, spread "
        "over the period's expedited_orders like a cost"
    ]


def test_a_missing_mart_fails_its_checks_instead_of_crashing(tampered: Tamper) -> None:
    result = audit_warehouse(tampered("drop table marts.fct_invoice_line_pnl", rebuild_audit=False))

    identity = result.check("pnl_net_profit_identity")
    assert identity.status == "error"
    assert "could not be read from the warehouse" in identity.findings[0].sentence
    assert "fct_invoice_line_pnl" in identity.findings[0].sentence
