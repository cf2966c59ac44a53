"""Runs that fail: each writes its run report with the reason, listed in the reports
index; and a tiny DuckDB memory limit spills to disk or fails naming our setting."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import pytest

from pipelines.demo.erp import DemoSummary, write_demo_erp

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return write_demo_erp(
        tmp_path_factory.mktemp("landing"), customers=60, months=3, seed=5, file_format="csv"
    )


def oasis_run(home: Path, source: Path, **environment: str) -> tuple[int, str]:
    """The real `oasis run`, in this process; returns its exit code and its output."""
    from orchestration.cli import main

    saved = dict(os.environ)
    os.environ.update({"OASIS_HOME": str(home), **environment})
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            code = main(["run", "--source", str(source)])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return code, output.getvalue()


def test_a_run_failing_a_dbt_data_test_writes_its_report_with_the_reason_listed_in_the_index(
    small_demo: DemoSummary, tmp_path: Path
) -> None:
    # Given a landing folder whose ledger does not reconcile with the invoices of a period
    landing = tmp_path / "landing"
    landing.mkdir()
    for table in small_demo.out_dir.iterdir():
        if table.is_dir():
            (landing / table.name).symlink_to(table)
    (landing / "gl_summary").unlink()
    (landing / "gl_summary").mkdir()
    period = small_demo.closed_periods[-1]
    for file in (small_demo.out_dir / "gl_summary").iterdir():
        lines = file.read_text().splitlines()  # "period","account","amount"
        for number, line in enumerate(lines):
            quoted_period, account, amount = line.split(",")
            if quoted_period == f'"{period}"' and account == '"net_revenue"':
                lines[number] = f"{quoted_period},{account},{float(amount) * 1.5:.2f}"  # +50%
        (landing / "gl_summary" / file.name).write_text("\n".join(lines) + "\n")

    # When Oasis runs
    home = tmp_path / "home"
    code, output = oasis_run(home, landing)

    # Then the run fails in dbt, saying which test and why
    assert code == 1, output
    assert "oasis: the run failed in oasis_dbt_models:" in output
    assert "audit_ledger_reconciliation_within_tolerance" in output
    # and its report says so, and the index lists it as failed
    reports = home / "reports"
    [failure_file] = reports.glob("*/run_failure.json")
    failure = json.loads(failure_file.read_text())
    assert failure["steps"] == ["oasis_dbt_models"]
    assert any(
        "audit_ledger_reconciliation_within_tolerance" in reason for reason in failure["reasons"]
    )
    summary = (failure_file.parent / "run_summary.md").read_text()
    assert f"# Oasis run {failure['run_id']}" in summary
    assert (
        "## The run failed" in summary and "audit_ledger_reconciliation_within_tolerance" in summary
    )
    index = (reports / "index.html").read_text()
    assert failure["run_id"][:8] in index
    assert "The run failed in oasis_dbt_models: " in index
    assert f'href="{failure_file.parent.name}/run_summary.md"' in index
    # and nothing was published
    assert not (home / "warehouse.published.duckdb").exists()
    assert not (home / "exports").exists() or not any((home / "exports").iterdir())


def test_a_tiny_duckdb_memory_limit_spills_beside_the_warehouse_or_names_our_setting(
    small_demo: DemoSummary, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    code, output = oasis_run(home, small_demo.out_dir, OASIS_DUCKDB_MEMORY_LIMIT="20MB")

    if code == 0:
        assert "Profit map, 12 months to" in output
        return
    # Some DuckDB operators cannot spill: then the message names our setting, not DuckDB's.
    assert "DuckDB ran out of memory with OASIS_DUCKDB_MEMORY_LIMIT=20MB" in output, output
    assert f"could not spill to {home / 'warehouse.duckdb.tmp'}" in output
    assert "SET memory_limit" not in output.split("oasis: the run failed in")[1]
    [failure_file] = (home / "reports").glob("*/run_failure.json")
    assert "OASIS_DUCKDB_MEMORY_LIMIT=20MB" in failure_file.read_text()
