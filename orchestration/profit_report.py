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

from orchestration.dbt_project import (
    MANIFEST_FINGERPRINT,
    manifest_fingerprint,
    oasis_dbt_project,
)
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
    docs = write_dbt_docs(dbt, folder / DBT_DOCS_FILE, Path(warehouse.path).stem)
    write_index(Path(reports.path))
    context.log.info(f"Profit report written to {pages[0]}; dbt docs to {docs}")
    return MaterializeResult(
        metadata={
            "profit_report": MetadataValue.path(str(pages[0])),
            "pages": MetadataValue.json([page.name for page in pages]),
            "dbt_docs": MetadataValue.path(str(docs)),
        }
    )


# Beside manifest.json, in the checkout's dbt target folder:
# docs/<project fingerprint>-<warehouse name>.html, the docs site of the project as it is now.
DBT_DOCS_CACHE = MANIFEST_FINGERPRINT.parent / "docs"


def write_dbt_docs(dbt: DbtCliResource, target: Path, warehouse_name: str) -> Path:
    """`dbt docs generate --static`: one self-contained HTML file (manifest and catalog
    inside, lineage included) that opens from the file system. `--no-compile` reuses the
    manifest of the last `dbt parse`, in a temporary target folder so that the project's
    own target/ is left as it was: ~20 s instead of ~50 s on the demo (the catalog query is
    what remains). Its dbt-docs tracking stays off: dbt writes `send_anonymous_usage_stats:
    false` into it under DO_NOT_TRACK (tests/reports check no request leaves the page).

    The site changes only when the project does: the catalog lists the models' columns and
    types (each mart's enforced contract), not their rows, and names the database after the
    warehouse file. So it is generated once per project fingerprint (the one `dbt parse`
    recorded, orchestration/dbt_project.py) and warehouse name, for the whole checkout, and
    copied into every later run's folder, whichever warehouse it builds: a run saves the
    8-10 s of starting dbt and reading the catalog (50 customers, 3 months), and so does
    every test that builds a warehouse of its own."""
    fingerprint = manifest_fingerprint()[:16]
    cached = DBT_DOCS_CACHE / f"{fingerprint}-{warehouse_name}.html"
    if not cached.is_file():
        DBT_DOCS_CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="oasis-dbt-docs-") as scratch:
            shutil.copyfile(oasis_dbt_project.manifest_path, Path(scratch) / "manifest.json")
            dbt.cli(
                ["docs", "generate", "--static", "--no-compile", "--quiet"],
                target_path=Path(scratch),
            ).wait()
            _copy_whole(Path(scratch) / "static_index.html", cached)
        for older in DBT_DOCS_CACHE.glob("*.html"):
            if not older.name.startswith(f"{fingerprint}-"):
                older.unlink(missing_ok=True)
    _copy_whole(cached, target)
    return target


def _copy_whole(source: Path, target: Path) -> None:
    """Copied beside `target` under a name of its own and renamed over it: a reader never
    sees half a page, and two runs writing the checkout's cached site at once (the test
    suite's workers) each rename a whole copy."""
    with tempfile.NamedTemporaryFile(
        dir=target.parent, prefix=f".{target.name}.", delete=False
    ) as temporary:
        shutil.copyfile(source, temporary.name)
    Path(temporary.name).replace(target)
