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

from orchestration.dbt_project import manifest_fingerprint, oasis_dbt_project
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
    docs = write_dbt_docs(dbt, folder / DBT_DOCS_FILE, Path(reports.path) / DBT_DOCS_CACHE)
    write_index(Path(reports.path))
    context.log.info(f"Profit report written to {pages[0]}; dbt docs to {docs}")
    return MaterializeResult(
        metadata={
            "profit_report": MetadataValue.path(str(pages[0])),
            "pages": MetadataValue.json([page.name for page in pages]),
            "dbt_docs": MetadataValue.path(str(docs)),
        }
    )


# reports/dbt_docs/<project fingerprint>.html: the docs site of the project as it is now.
DBT_DOCS_CACHE = "dbt_docs"


def write_dbt_docs(dbt: DbtCliResource, target: Path, cache: Path) -> Path:
    """`dbt docs generate --static`: one self-contained HTML file (manifest and catalog
    inside, lineage included) that opens from the file system. `--no-compile` reuses the
    manifest the run's `dbt build` wrote, in a temporary target folder so that the project's
    own target/ is left as it was: ~20 s instead of ~50 s on the demo (the catalog query is
    what remains). Its dbt-docs tracking stays off: dbt writes `send_anonymous_usage_stats:
    false` into it under DO_NOT_TRACK (tests/reports check no request leaves the page).

    The site changes only when the project does (the catalog lists the models' columns and
    types, not their rows), so it is generated once per project fingerprint (the one
    `dbt parse` recorded, orchestration/dbt_project.py) and copied into every later run's
    folder: a month-close run saves the 6-10 s of starting dbt and reading the catalog."""
    cached = cache / f"{manifest_fingerprint()[:16]}.html"
    if not cached.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="oasis-dbt-docs-") as scratch:
            shutil.copyfile(oasis_dbt_project.manifest_path, Path(scratch) / "manifest.json")
            dbt.cli(
                ["docs", "generate", "--static", "--no-compile", "--quiet"],
                target_path=Path(scratch),
            ).wait()
            _copy_whole(Path(scratch) / "static_index.html", cached)
        for older in cache.glob("*.html"):
            if older != cached:
                older.unlink()
    _copy_whole(cached, target)
    return target


def _copy_whole(source: Path, target: Path) -> None:
    """Copied beside `target` and renamed over it: a reader never sees half a page."""
    temporary = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, temporary)
    temporary.replace(target)
