"""The run report: written after the marts are built and tested, and for a failed run by
a failure hook on every asset (orchestration/definitions.py).

Why a hook, not `oasis run` or a sensor: the hook runs inside the run's own process, right
after the failed step, whoever started the run (`oasis run`, the UI, the schedule, the
sensor), so the report is there when the run ends. A run-failure sensor would write it up
to a minute later and only while the daemon runs; `oasis run` alone would miss the runs of
the UI. A run that fails before any step (another run holds the warehouse) never started
its work: `oasis run` says so, the daemon retries it (docs/dagster_instance.md).
"""

import re
from pathlib import Path

from dagster import (
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    HookContext,
    MaterializeResult,
    MetadataValue,
    asset,
    failure_hook,
)

from orchestration.resources import ReportsFolderResource, WarehouseResource
from pipelines.reports import (
    format_profit_map,
    read_run_summary,
    write_failure_report,
    write_run_report,
)

# dagster-dbt's error runs on with the dbt command and where its logs are; what dbt said
# comes after this line.
_DBT_ERRORS = "Errors parsed from dbt logs:"
# How Dagster's error messages begin: "dagster._core.definitions.events.Failure: ...".
_CLASS_PATH = re.compile(r"^(\w+\.)+\w+: ")


@asset(
    deps=[
        AssetKey(["marts", name])
        for name in ("profit_map", "whale_curve", "facts_awaiting_cost_pools")
    ],
    group_name="reports",
    owners=["team:data-engineering"],
    description="reports/<time>-<run>/: the profit map, quarantined records and waiting facts.",
)
def run_report(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    reports: ReportsFolderResource,
) -> MaterializeResult:
    with warehouse.connect(read_only=True) as connection:
        run_dir = write_run_report(connection, Path(reports.path), context.run_id)
        profit_map = format_profit_map(read_run_summary(connection))
    context.log.info(f"Report written to {run_dir}")
    return MaterializeResult(
        metadata={
            "report_folder": MetadataValue.path(str(run_dir)),
            "profit_map": MetadataValue.md(f"```\n{profit_map}\n```"),
        }
    )


@failure_hook(required_resource_keys={"reports", "warehouse"})
def failed_run_report(context: HookContext) -> None:
    """Writes the failed step's reasons into the run's report and lists it in the index."""
    reasons = failed_checks(context.instance, context.run_id)
    if context.op_exception is not None:
        reasons.append(error_sentence(str(context.op_exception)))
    run_dir = write_failure_report(
        Path(context.resources.reports.path),
        context.run_id,
        context.step_key,
        reasons,
        Path(context.resources.warehouse.path),
    )
    context.log.error(f"The run failed in {context.step_key}: {run_dir / 'run_summary.md'}")


def failed_checks(instance: DagsterInstance, run_id: str) -> list[str]:
    """A sentence for each check of the run that failed with an error: a dbt data test, an
    audit suite."""
    records = instance.get_records_for_run(
        run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    evaluations = [
        record.event_log_entry.get_dagster_event().event_specific_data for record in records
    ]
    return [
        f"check {evaluation.check_name} of {evaluation.asset_key.to_user_string()} failed"
        + (f": {evaluation.description}" if evaluation.description else "")
        for evaluation in evaluations
        if not evaluation.passed and evaluation.severity == AssetCheckSeverity.ERROR
    ]


def error_sentence(error: str) -> str:
    """A failed step's error, for people: without the exception's class path, and of
    dagster-dbt's, what dbt said."""
    text = _CLASS_PATH.sub("", error.strip())
    if _DBT_ERRORS in text:
        return "dbt: " + " ".join(text.split(_DBT_ERRORS, 1)[1].split())
    return text
