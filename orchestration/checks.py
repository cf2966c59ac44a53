"""The auditors' checks in Dagster, and the publication they guard.

`audited_warehouse` runs every suite of expectations/ against the working warehouse
(read-only), writes the audit report into the run's report folder, and reports each
check as a blocking asset check with a sentence and numbers. The publication
(orchestration/publish.py) then copies the marts into `<warehouse>.published.duckdb`, the
file BI tools read, with `stage_marts` below. A check failing with an error fails the
audit step, so Dagster skips the publication, the run fails (`oasis run` exits 1) and the
published file keeps its previous version. Warnings are reported and do not block.

Why a copy: dbt builds every model in one `dbt build` call, so no check can stop the
working file's marts from being replaced (blocking checks only hold back later
steps). Readers get the published file instead, swapped in whole by a rename.
"""

import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
)

from expectations.catalog import CHECKS
from expectations.settings import AuditSettings
from orchestration.ingest import erp_asset_key
from orchestration.reports import run_report
from orchestration.resources import ReportsFolderResource, WarehouseResource
from pipelines.audit_report import run_report_folder, write_audit_report
from pipelines.contract import TABLES
from pipelines.mid_update import clear_mid_update
from pipelines.publication import StagedFiles
from pipelines.sql import quote_identifier

if TYPE_CHECKING:
    from expectations.runner import AuditResult, CheckOutcome

AUDITED_WAREHOUSE = AssetKey("audited_warehouse")
# Older DuckDB builds, which many BI drivers bundle, cannot open DuckDB 2.0's format.
PUBLISHED_STORAGE_VERSION = "v1.4.0"
# Findings listed in a check's metadata in the UI; the report has them all.
_DETAILS_IN_UI = 20

# What the suites read besides the raw tables: the rates, the P&L, its audit trail and
# the reconciliations (dbt_project/models/audit).
_AUDITED_MODELS = [
    AssetKey(["intermediate", "int_pool_rates_computed"]),
    AssetKey(["marts", "fct_invoice_line_pnl"]),
    AssetKey(["marts", "fct_cost_allocations"]),
    AssetKey(["audit", "audit_pool_conservation"]),
    AssetKey(["audit", "audit_pnl_identity"]),
    AssetKey(["audit", "audit_ledger_reconciliation"]),
]


@asset(
    key=AUDITED_WAREHOUSE,
    # After the run report, so that the audit report lands in the same run folder.
    deps=[run_report, *_AUDITED_MODELS, *(erp_asset_key(name) for name in TABLES)],
    group_name="reports",
    owners=["team:data-engineering"],
    kinds={"duckdb"},
    check_specs=[
        AssetCheckSpec(
            check.name,
            asset=AUDITED_WAREHOUSE,
            description=f"{check.title}: {check.description}",
            blocking=True,
        )
        for check in CHECKS
    ],
    description=(
        "The working warehouse, validated by the auditors' Great Expectations suites "
        "(allocation, P&L integrity, ledger, extracts). Writes reports/<run>/audit.html and "
        "reports/index.html. A check failing with an error blocks publication."
    ),
)
def audited_warehouse(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    reports: ReportsFolderResource,
) -> MaterializeResult:
    # Imported here: Great Expectations takes ~5 s to import, and loading the definitions
    # (the UI, every `oasis` command that builds) should not pay for it.
    from expectations.runner import run_audit

    settings = AuditSettings.from_environment(os.environ)
    with warehouse.connect(read_only=True) as connection:
        audit = run_audit(connection, settings, warehouse=warehouse.path)
    if not audit.errors:
        # Built and audited: whatever an earlier run left half-done is whole again.
        with warehouse.connect() as connection:
            clear_mid_update(connection)
    report = write_audit_report(
        run_report_folder(Path(reports.path), context.run_id),
        audit.to_dict(run_id=context.run_id, mode="run"),
        audit.gx_results,
    )
    _log_audit(context, audit, report)
    return MaterializeResult(
        metadata={
            "audit_report": MetadataValue.path(str(report)),
            "as_of_period": audit.as_of_period or "",
            "errors": len(audit.errors),
            "warnings": len(audit.warnings),
            "validation_seconds": round(audit.read_seconds + audit.validate_seconds, 2),
            "checks": MetadataValue.md(_checks_markdown(audit)),
        },
        check_results=[_check_result(outcome) for outcome in audit.checks],
    )


# --- turning the audit into Dagster's words ------------------------------------------------


def _check_result(outcome: "CheckOutcome") -> AssetCheckResult:
    details = "\n".join(f"- {f.severity}: {f.sentence}" for f in outcome.findings[:_DETAILS_IN_UI])
    if len(outcome.findings) > _DETAILS_IN_UI:
        details += f"\n- ... and {len(outcome.findings) - _DETAILS_IN_UI:,} more in the report"
    metadata: dict[str, object] = {
        "findings": len(outcome.findings),
        "rows_checked": outcome.rows_checked,
        "level": outcome.level,
    }
    if details:
        metadata["details"] = MetadataValue.md(details)
    return AssetCheckResult(
        check_name=outcome.check.name,
        passed=outcome.passed,
        severity=(
            AssetCheckSeverity.ERROR if outcome.severity == "error" else AssetCheckSeverity.WARN
        ),
        description=outcome.summary,
        metadata=metadata,
    )


def _checks_markdown(audit: "AuditResult") -> str:
    lines = ["| check | result | what it found |", "|---|---|---|"]
    for outcome in audit.checks:
        summary = outcome.summary.replace("|", "\\|")
        lines.append(f"| {outcome.check.name} | {outcome.status} | {summary} |")
    return "\n".join(lines)


def _log_audit(context: AssetExecutionContext, audit: "AuditResult", report: Path) -> None:
    for outcome in audit.checks:
        for finding in outcome.findings[:_DETAILS_IN_UI]:
            log = context.log.error if finding.severity == "error" else context.log.warning
            log(f"{outcome.check.name}: {finding.sentence}")
    passed = sum(outcome.passed for outcome in audit.checks)
    context.log.info(
        f"Audit: {passed} of {len(audit.checks)} checks passed, {len(audit.warnings)} with "
        f"warnings, {len(audit.errors)} with errors, in "
        f"{audit.read_seconds + audit.validate_seconds:.1f} s. Report: {report}"
    )


# --- publication (plain Python) --------------------------------------------------------------


@dataclass(frozen=True)
class Publication:
    path: Path
    tables: dict[str, int]  # mart -> rows


def published_path(warehouse: Path) -> Path:
    """`warehouse.duckdb` -> `warehouse.published.duckdb`, in the same folder."""
    return warehouse.with_name(f"{warehouse.stem}.published.duckdb")


def audited_snapshot_path(warehouse: Path) -> Path:
    """`warehouse.duckdb` -> `warehouse.audited.duckdb`, in the same folder."""
    return warehouse.with_name(f"{warehouse.stem}.audited.duckdb")


def stage_audited_snapshot(warehouse: Path, run_id: str) -> StagedFiles:
    """A copy of the whole working warehouse as its audit passed, for `oasis check` and
    `oasis explain`: they read raw tables and the audit trail, which the published copy
    does not hold, and must never open the file a run is writing (DuckDB lets one process
    write a file, and a reader there made a run die in dbt). The run holds the warehouse,
    so nothing writes it now: a checkpoint folds its write-ahead log into the file, and the
    file alone is the snapshot. A file copy: about 5 s per GiB on these machines."""
    target = audited_snapshot_path(warehouse)
    temporary = target.with_name(f".{target.name}.{run_id[:8]}.tmp")
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("checkpoint")
    shutil.copyfile(warehouse, temporary)
    staged = StagedFiles()
    staged.add(temporary, target)
    # A log left by a reader that crashed would not belong to the new file.
    staged.removals.append(target.with_name(target.name + ".wal"))
    return staged


# A mart view names what it reads by schema and table (`intermediate.int_...`), without the
# database: created in the published file, it reads that file's copies.
_INTERMEDIATE_TABLE = re.compile(r"\bintermediate\.(\w+)")


def _copy_views(connection: duckdb.DuckDBPyConnection, views: list[tuple[str, str]]) -> None:
    """Creates `views` (name, SQL) in published.marts over copies of their intermediates."""
    inputs = sorted({table for _, sql in views for table in _INTERMEDIATE_TABLE.findall(sql)})
    if inputs:
        connection.execute("create schema published.intermediate")
    for table in map(quote_identifier, inputs):
        connection.execute(
            f"create table published.intermediate.{table} as "
            f"select * from working.intermediate.{table}"
        )
    connection.execute("use published")
    for _, sql in views:
        connection.execute(sql)
    connection.execute("use memory")


def stage_marts(
    warehouse: Path, run_id: str, config: dict[str, str]
) -> tuple[Publication, StagedFiles]:
    """Copies every table of the schema `marts` into a new published file.

    Written to a temporary file beside the published one; committing the staged file
    renames it over that one, so a reader sees the old file or the new one, never half of
    one, and a reader that has the old file open keeps reading it. A view of `marts` (the
    audit trail, ~13 rows per P&L row) stays a view: the intermediate tables it reads are
    copied into the schema `intermediate` of the published file (about one row per P&L
    row and one per period and pool), and the view is created there from its own SQL, so
    it reads the same rows as in the working file (docs/parquet_marts.md has the sizes).
    `config`: DuckDB's settings (pipelines.settings.duckdb_config).
    """
    target = published_path(Path(warehouse))
    temporary = target.with_name(f".{target.name}.{run_id[:8]}.tmp")
    temporary.unlink(missing_ok=True)
    connection = duckdb.connect(config=config)
    try:
        connection.execute("attach ? as working (read_only)", [str(warehouse)])
        connection.execute(
            "attach ? as published (storage_version ?)",
            [str(temporary), PUBLISHED_STORAGE_VERSION],
        )
        names = [
            name
            for (name,) in connection.execute(
                """
                select table_name from duckdb_tables()
                where database_name = 'working' and schema_name = 'marts'
                order by table_name
                """
            ).fetchall()
        ]
        connection.execute("create schema published.marts")
        tables = {}
        for name in names:
            table = quote_identifier(name)
            connection.execute(
                f"create table published.marts.{table} as select * from working.marts.{table}"
            )
            (tables[name],) = connection.execute(
                f"select count(*) from published.marts.{table}"
            ).fetchone()
        views = connection.execute(
            """
            select view_name, sql from duckdb_views()
            where database_name = 'working' and schema_name = 'marts' and not internal
            order by view_name
            """
        ).fetchall()
        _copy_views(connection, views)
        names = sorted([*names, *(name for name, _ in views)])
        for name, _ in views:
            (tables[name],) = connection.execute(
                f"select count(*) from published.marts.{quote_identifier(name)}"
            ).fetchone()
        connection.execute("create schema published.meta")
        connection.execute(
            """
            create table published.meta.publication as
            select ? as run_id, ? as published_at, ? as source_warehouse, ? as marts
            """,
            [run_id, datetime.now(UTC).replace(tzinfo=None), str(warehouse), names],
        )
        connection.execute("detach published")
    except BaseException:
        connection.close()
        temporary.unlink(missing_ok=True)
        raise
    connection.close()
    staged = StagedFiles()
    staged.add(temporary, target)
    return Publication(target, tables), staged
