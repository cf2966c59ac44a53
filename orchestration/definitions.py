"""Oasis in Dagster: ERP extracts -> raw -> dbt (P&L, customers, policies) -> audit ->
publication and feed, partitioned by period (orchestration/partitions.py).

`defs` is loaded lazily (`@definitions`): the settings it needs from the environment (the
warehouse the job's runs are tagged with, the month-close day) are read when Dagster, the
UI or `oasis run` load it, not when the module is imported."""

import os

from dagster import (
    AssetSelection,
    Definitions,
    EnvVar,
    colored_console_logger,
    define_asset_job,
    definitions,
    in_process_executor,
)

from orchestration.automation import JOB_NAME, month_close_schedule, new_extracts_sensor
from orchestration.checks import audited_warehouse
from orchestration.console import oasis_console_logger
from orchestration.dbt import oasis_dbt_models
from orchestration.dbt_project import dbt_cli_resource
from orchestration.ingest import erp_extract_assets
from orchestration.profit_report import profit_report
from orchestration.publish import publication
from orchestration.reports import failed_run_report, run_report
from orchestration.resources import (
    WAREHOUSE_RUN_TAG,
    ExportsFolderResource,
    LandingFolderResource,
    ReportsFolderResource,
    WarehouseResource,
)
from pipelines.settings import resolve_settings


# The job of `oasis run`, the schedule, the sensor and the UI's "Materialize": every
# asset, for one period, a range of periods, or all of them. The tag lets the run queue
# (dagster.yaml) start one run per warehouse at a time: DuckDB takes one writer.
@definitions
def defs() -> Definitions:
    settings = resolve_settings(os.environ)
    # `oasis` sets it; `dagster dev` started by hand reads the source folder itself.
    os.environ.setdefault("OASIS_LANDING", str(settings.source))
    oasis_build = define_asset_job(
        JOB_NAME,
        selection=AssetSelection.all(),
        tags={WAREHOUSE_RUN_TAG: str(settings.warehouse)},
    )
    return Definitions(
        # Every asset's failure writes the run report of the failed run, whatever job ran it.
        assets=[
            asset.with_hooks({failed_run_report})
            for asset in (
                *erp_extract_assets,
                oasis_dbt_models,
                run_report,
                audited_warehouse,
                publication,
                profit_report,
            )
        ],
        jobs=[oasis_build],
        schedules=[month_close_schedule(settings.month_close_day)],
        sensors=[new_extracts_sensor],
        # DuckDB takes one writer: steps run one after another in the run's process.
        executor=in_process_executor,
        # Dagster's console logger for runs of the UI, the schedule and the sensor; `oasis run`
        # configures its own, which draws the stages (orchestration/console.py).
        loggers={"console": colored_console_logger, "oasis_console": oasis_console_logger},
        resources={
            "warehouse": WarehouseResource(
                path=EnvVar("OASIS_WAREHOUSE"),
                memory_limit=EnvVar("OASIS_DUCKDB_MEMORY_LIMIT"),
                lock_wait_seconds=EnvVar.int("OASIS_WAREHOUSE_LOCK_WAIT"),
                engine=settings.engine,
            ),
            "landing": LandingFolderResource(
                path=EnvVar("OASIS_LANDING"),
                company_currency=EnvVar("OASIS_CURRENCY"),
                index_path=str(settings.landing_index),
            ),
            "reports": ReportsFolderResource(path=EnvVar("OASIS_REPORTS")),
            "exports": ExportsFolderResource(path=EnvVar("OASIS_EXPORTS")),
            "dbt": dbt_cli_resource(),
        },
    )
