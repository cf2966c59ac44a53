"""The run report: written after the marts are built and tested."""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.resources import ReportsFolderResource, WarehouseResource
from pipelines.reports import format_profit_map, read_run_summary, write_run_report


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
