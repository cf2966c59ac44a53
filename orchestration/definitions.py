"""Oasis in Dagster: ERP extracts -> raw -> dbt (P&L, customers) -> reports."""

from dagster import AssetSelection, Definitions, EnvVar, define_asset_job, in_process_executor

from orchestration.checks import audited_warehouse, published_warehouse
from orchestration.dbt import oasis_dbt_models
from orchestration.dbt_project import dbt_cli_resource
from orchestration.feed import ExportsFolderResource, customer_policy_feed
from orchestration.ingest import erp_extract_assets
from orchestration.reports import run_report
from orchestration.resources import LandingFolderResource, ReportsFolderResource, WarehouseResource

# The same job the `oasis run` command executes.
full_build = define_asset_job("oasis_full_build", selection=AssetSelection.all())

defs = Definitions(
    assets=[
        *erp_extract_assets,
        oasis_dbt_models,
        run_report,
        audited_warehouse,
        published_warehouse,
        customer_policy_feed,
    ],
    jobs=[full_build],
    # DuckDB takes one writer: steps run one after another in the run's process.
    executor=in_process_executor,
    resources={
        "warehouse": WarehouseResource(
            path=EnvVar("OASIS_WAREHOUSE"), memory_limit=EnvVar("OASIS_DUCKDB_MEMORY_LIMIT")
        ),
        "landing": LandingFolderResource(
            path=EnvVar("OASIS_SOURCE"), company_currency=EnvVar("OASIS_CURRENCY")
        ),
        "reports": ReportsFolderResource(path=EnvVar("OASIS_REPORTS")),
        "exports": ExportsFolderResource(path=EnvVar("OASIS_EXPORTS")),
        "dbt": dbt_cli_resource(),
    },
)
