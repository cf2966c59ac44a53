"""The auditors' checks in Dagster, guarding the publication.

`audited_warehouse` runs every suite of expectations/ against the working warehouse
(read-only), writes the audit report into the run's report folder, and reports each
check as a blocking asset check with a sentence and numbers. The publication
(orchestration/publish.py) then copies the marts into `<warehouse>.published.duckdb`, the
file BI tools read (pipelines/published_warehouse.py). A check failing with an error fails
the audit step, so Dagster skips the publication, the run fails (`oasis run` exits 1) and
the published file keeps its previous version. Warnings are reported and do not block.
"""

import os
from pathlib import Path
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from expectations.runner import AuditResult, CheckOutcome

AUDITED_WAREHOUSE = AssetKey("audited_warehouse")
# Findings listed in a check's metadata in the UI; the report has them all.
_DETAILS_IN_UI = 20

# What the suites read besides the raw tables: the rates, the P&L and its audit trail.
_AUDITED_MODELS = [
    AssetKey(["intermediate", "int_pool_rates_computed"]),
    AssetKey(["marts", "fct_invoice_line_pnl"]),
    AssetKey(["marts", "fct_cost_allocations"]),
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
