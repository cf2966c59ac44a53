"""Publication: the marts reach <warehouse>.published.duckdb only after the audit passed;
an error keeps the previous published file and fails the run."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from dagster import AssetCheckSeverity, DagsterInstance, ExecuteInProcessResult, materialize

from orchestration.checks import audited_warehouse
from orchestration.cli import main
from orchestration.publish import publication
from orchestration.resources import (
    ExportsFolderResource,
    LandingFolderResource,
    ReportsFolderResource,
    WarehouseResource,
)
from pipelines.demo.erp import write_demo_erp
from pipelines.published_warehouse import published_path
from tests.conftest import BuiltWarehouse, digest, folder_digest


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


def audit_and_publish(
    warehouse: Path, reports: Path, instance: DagsterInstance, exports: Path | None = None
) -> ExecuteInProcessResult:
    return materialize(
        [audited_warehouse, publication],
        resources={
            "warehouse": WarehouseResource(path=str(warehouse)),
            "reports": ReportsFolderResource(path=str(reports)),
            "exports": ExportsFolderResource(path=str(exports or reports.parent / "exports")),
            # No extracts there: the feed's manifest then lists no inputs.
            "landing": LandingFolderResource(path=str(reports.parent / "landing")),
        },
        instance=instance,
        raise_on_error=False,
    )


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """`folder` read-only. Permission bits do not stop root (CI runs as root): then a
    read-only bind mount of the folder over itself does."""
    folder.chmod(0o555)
    mounted = False
    try:
        if os.geteuid() == 0:
            for command in (
                ["mount", "--bind", str(folder), str(folder)],
                ["mount", "-o", "remount,ro,bind", str(folder)],
            ):
                if subprocess.run(command, capture_output=True).returncode != 0:
                    pytest.skip(f"cannot make {folder} read-only for root: {' '.join(command)}")
                mounted = True
        yield
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=True)
        folder.chmod(0o755)


# --- what the session's `oasis run` did -----------------------------------------------------


def test_the_run_published_every_mart_table_readable_by_duckdb_1_4(
    built_warehouse: BuiltWarehouse,
) -> None:
    published = published_path(built_warehouse.path)
    assert published == built_warehouse.path.with_name("warehouse.published.duckdb")
    marts_query = """
        select table_name from duckdb_tables()
        where database_name = ? and schema_name = 'marts'
        union all
        select view_name from duckdb_views()
        where database_name = ? and schema_name = 'marts' and not internal
    """
    marts = {name for (name,) in built_warehouse.query(marts_query, ["warehouse"] * 2)}
    with duckdb.connect() as connection:
        connection.execute(f"attach '{published}' as published (read_only)")
        (tags,) = connection.execute(
            "select tags from duckdb_databases() where database_name = 'published'"
        ).fetchone()
        tables = {name for (name,) in connection.execute(marts_query, ["published"] * 2).fetchall()}
        (allocated,) = connection.execute(
            "select sum(amount) from published.marts.fct_cost_allocations"
        ).fetchone()
        (pnl_rows,) = connection.execute(
            "select count(*) from published.marts.fct_invoice_line_pnl"
        ).fetchone()
        (marts_listed,) = connection.execute(
            "select marts from published.meta.publication"
        ).fetchone()
    assert tags["storage_version"].startswith("v1.4.0")
    assert tables == marts and {"fct_invoice_line_pnl", "fct_cost_allocations"} <= tables
    # The audit trail's view reads the published copies of its inputs: the same cents.
    assert allocated == built_warehouse.scalar("select sum(amount) from marts.fct_cost_allocations")
    assert sorted(marts_listed) == sorted(marts)
    assert pnl_rows == built_warehouse.scalar("select count(*) from marts.fct_invoice_line_pnl")


def test_the_run_wrote_the_audit_report_beside_its_run_summary(
    built_warehouse: BuiltWarehouse,
) -> None:
    reports = built_warehouse.home / "reports"
    [report] = reports.glob("*/audit.html")
    assert (report.parent / "run_summary.md").is_file()
    summary = json.loads((report.parent / "audit_summary.json").read_text())
    assert summary["mode"] == "run" and summary["counts"]["errors"] == 0
    gx_results = json.loads((report.parent / "gx_results.json").read_text())
    assert {result["suite_name"] for result in gx_results} >= {
        "allocation.pool_allocations",
        "ledger.ledger_by_period",
    }
    assert f'href="{report.parent.name}/audit.html"' in (reports / "index.html").read_text()


# --- blocking -------------------------------------------------------------------------------


def test_an_error_blocks_publication_and_keeps_the_previous_file(
    built_warehouse: BuiltWarehouse,
    tampered: Callable[..., Path],
    tmp_path: Path,
    instance: DagsterInstance,
) -> None:
    # Given a warehouse published once after a clean audit
    warehouse = tampered()
    reports = tmp_path / "reports"
    assert audit_and_publish(warehouse, reports, instance).success
    published = published_path(warehouse)
    before = digest(published)
    # When its ledger no longer matches the P&L (the same copy, its audit models rebuilt
    # as the run's dbt build would) and the audit runs again
    period = built_warehouse.scalar("select max(period) from raw.gl_summary")
    assert (
        tampered(
            "update raw.gl_summary set amount = amount * 1.01 "
            f"where period = '{period}' and account = 'net_revenue'"
        )
        == warehouse
    )
    result = audit_and_publish(warehouse, reports, instance)

    # Then the run fails in the audit, the published file is the old one
    assert not result.success
    assert [event.step_key for event in result.get_step_failure_events()] == ["audited_warehouse"]
    assert digest(published) == before
    [ledger] = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert ledger.check_name == "ledger_reconciles"
    assert ledger.severity == AssetCheckSeverity.ERROR
    assert f"net_revenue {period}: P&L " in ledger.description
    assert "(-0.99%; tolerance 0.50%)" in ledger.description
    # and the auditors' report of the failed run says so.
    newest = max(reports.glob("*/audit.html"), key=lambda path: path.parent.name)
    assert "Publication is blocked" in newest.read_text()


def test_a_read_only_exports_folder_fails_the_run_and_publishes_neither_output(
    tampered: Callable[..., Path], tmp_path: Path, instance: DagsterInstance
) -> None:
    # Given a warehouse published once, with its feed
    warehouse = tampered()
    reports, exports = tmp_path / "reports", tmp_path / "exports"
    assert audit_and_publish(warehouse, reports, instance, exports).success
    published = published_path(warehouse)
    before = digest(published), folder_digest(exports)

    # When the next run finds the exports folder read-only
    with read_only(exports):
        result = audit_and_publish(warehouse, reports, instance, exports)

    # Then it fails in the publication, saying why, and neither output was replaced
    assert not result.success
    [failure] = result.get_step_failure_events()
    assert failure.step_key == "publication"
    message = failure.event_specific_data.error.message
    assert f"cannot write the feeds or Parquet marts to {exports}" in message
    assert f"nothing is published, {published} keeps its previous version" in message
    after = digest(published), folder_digest(exports)
    assert after == before
    assert list(warehouse.parent.glob(".*.tmp")) == []  # no staged copy left behind


def test_a_warning_does_not_block_publication(
    tampered: Callable[..., Path], tmp_path: Path, instance: DagsterInstance
) -> None:
    warehouse = tampered(
        "insert into raw.quarantine by name select 'returns' as table_name, "
        "'bad.csv' as source_file, range + 1 as source_row, 'quantity' as column_name, "
        "'0' as bad_value, 'quantity must be above zero' as reason, '{}' as record_json, "
        "now() as loaded_at "
        "from range((select count(*) // 40 from raw.returns))"
    )

    result = audit_and_publish(warehouse, tmp_path / "reports", instance)

    assert result.success
    assert published_path(warehouse).is_file()
    [warning] = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert warning.check_name == "extracts_quarantine_share"
    assert warning.severity == AssetCheckSeverity.WARN


def test_publishing_without_the_audit_is_refused(
    tampered: Callable[..., Path], tmp_path: Path, instance: DagsterInstance
) -> None:
    warehouse = tampered()

    result = materialize(
        [publication],
        resources={
            "warehouse": WarehouseResource(path=str(warehouse)),
            "exports": ExportsFolderResource(path=str(tmp_path / "exports")),
            "landing": LandingFolderResource(path=str(tmp_path / "landing")),
        },
        instance=instance,
        raise_on_error=False,
    )

    assert not result.success
    assert not published_path(warehouse).exists()


@pytest.mark.e2e
def test_a_cost_pool_with_an_unknown_driver_fails_the_run_and_publishes_nothing(
    tmp_path: Path,
) -> None:
    # Given a month whose packing pool names a driver METHOD.md does not know: the loader
    # quarantines that one record, far below the quarantine share's thresholds
    demo = write_demo_erp(tmp_path / "landing", customers=50, months=3, seed=3)
    period = demo.closed_periods[-1]
    pools = demo.out_dir / "cost_pools" / f"cost_pools-{period}.parquet"
    with duckdb.connect() as connection:
        [(amount,)] = connection.execute(
            "select amount from read_parquet(?) where pool = 'packing'", [str(pools)]
        ).fetchall()
        rewritten = connection.sql(
            "select * replace (case when pool = 'packing' then 'headcount' else driver end "
            "as driver) from read_parquet($pools)",
            params={"pools": str(pools)},
        ).to_arrow_table()
    pq.write_table(rewritten, pools)
    warehouse = tmp_path / "home" / "warehouse.duckdb"

    # When it runs (the command exports its settings: the environment is restored after)
    saved_environment = dict(os.environ)
    os.environ["OASIS_HOME"] = str(tmp_path / "home")
    output, errors = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(errors):
            exit_code = main(["run", "--source", str(demo.out_dir), "--warehouse", str(warehouse)])
    finally:
        os.environ.clear()
        os.environ.update(saved_environment)

    # Then the audit fails the run, nothing is published, and the report names the pool
    assert exit_code == 1
    assert "audited_warehouse" in errors.getvalue()
    assert not published_path(warehouse).exists()
    [summary] = (tmp_path / "home" / "reports").glob("*/audit_summary.json")
    [check] = [c for c in json.loads(summary.read_text())["checks"] if c["status"] == "error"]
    assert check["name"] == "extracts_money_records_loaded"
    assert f"pool packing {period} of {float(amount):,.2f} is in quarantine" in check["summary"]


def _marts_of_the_interface() -> dict[str, set[str]]:
    """MARTS.md's marts (docs/marts.md) with the columns it names for each: the backticked
    names after `marts.<name>` up to the next mart, less templates (`pool_<name>`) and the
    contract tables a dimension copies (`customers`, `products`)."""
    text = (Path(__file__).parents[2] / "docs" / "marts.md").read_text()
    text = re.sub(r"(contract's|every column of)\s+`\w+`", "", text, flags=re.IGNORECASE)
    marts: dict[str, set[str]] = {}
    current = None
    for token in re.findall(r"`([^`]+)`", text):
        if token.startswith("marts."):
            current = marts.setdefault(token.removeprefix("marts."), set())
        elif current is not None and re.fullmatch(r"[a-z_0-9]+", token):
            current.add(token)
    return marts


def test_the_published_copy_holds_every_mart_of_marts_md_with_its_columns(
    built_warehouse: BuiltWarehouse,
) -> None:
    # Fails until the portal, team and dimension marts of the other branches are merged:
    # the published copy must hold every mart the interface names.
    interface = _marts_of_the_interface()
    assert {"fct_cost_allocations", "product_rankings", "dim_customers"} <= interface.keys()
    with duckdb.connect(str(published_path(built_warehouse.path)), read_only=True) as connection:
        published = {}
        for table, column in connection.execute(
            "select table_name, column_name from duckdb_columns() where schema_name = 'marts'"
        ).fetchall():
            published.setdefault(table, set()).add(column)
    missing = {
        mart: sorted(columns - published.get(mart, set()))
        for mart, columns in interface.items()
        if mart not in published or columns - published[mart]
    }
    assert missing == {}
