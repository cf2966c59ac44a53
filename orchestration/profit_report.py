"""The profit report and the dbt docs site of a run, written into the run's report folder
once the marts are published (the report reads the published copy, what BI tools see).

In a module of its own: orchestration/publish.py imports the audit, which imports
orchestration/reports.py, so the run report's module cannot depend on the publication.
"""

import shutil
import tempfile
from pathlib import Path

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset
from dagster_dbt import DbtCliResource

from orchestration.dbt_project import oasis_dbt_project
from orchestration.publish import PUBLISHED_WAREHOUSE
from orchestration.resources import ReportsFolderResource, WarehouseResource
from pipelines.audit_report import DBT_DOCS_FILE, run_report_folder, write_index
from pipelines.profit_report import write_profit_reports
from pipelines.published_warehouse import published_path


@asset(
    deps=[PUBLISHED_WAREHOUSE],
    group_name="reports",
    owners=["team:data-engineering"],
    description=(
        "reports/<time>-<run>/profit_report.html: the profit map, whale curve, price "
        "waterfall, migration, trend, cost to serve and top lists of the published marts "
        "(offline HTML, inline SVG); and dbt_docs.html, the dbt docs site with the lineage."
    ),
)
def profit_report(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    reports: ReportsFolderResource,
    dbt: DbtCliResource,
) -> MaterializeResult:
    folder = run_report_folder(Path(reports.path), context.run_id)
    pages = write_profit_reports(published_path(Path(warehouse.path)), folder)
    docs = write_dbt_docs(dbt, folder / DBT_DOCS_FILE)
    write_index(Path(reports.path))
    context.log.info(f"Profit report written to {pages[0]}; dbt docs to {docs}")
    return MaterializeResult(
        metadata={
            "profit_report": MetadataValue.path(str(pages[0])),
            "pages": MetadataValue.json([page.name for page in pages]),
            "dbt_docs": MetadataValue.path(str(docs)),
        }
    )


def write_dbt_docs(dbt: DbtCliResource, target: Path) -> Path:
    """`dbt docs generate --static`: one self-contained HTML file (manifest and catalog
    inside, lineage included) that opens from the file system. `--no-compile` reuses the
    manifest the run's `dbt build` wrote, in a temporary target folder so that the project's
    own target/ is left as it was: ~20 s instead of ~50 s on the demo (the catalog query is
    what remains). Its dbt-docs tracking stays off: dbt writes `send_anonymous_usage_stats:
    false` into it under DO_NOT_TRACK (tests/reports check no request leaves the page)."""
    with tempfile.TemporaryDirectory(prefix="oasis-dbt-docs-") as scratch:
        shutil.copyfile(
            oasis_dbt_project.project_dir / oasis_dbt_project.target_path / "manifest.json",
            Path(scratch) / "manifest.json",
        )
        dbt.cli(
            ["docs", "generate", "--static", "--no-compile", "--quiet"], target_path=Path(scratch)
        ).wait()
        temporary = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(Path(scratch) / "static_index.html", temporary)
        temporary.replace(target)
    return target
