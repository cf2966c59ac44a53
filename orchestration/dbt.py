"""The dbt project as Dagster assets: one `dbt build` per run (models and their tests)."""

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from pipelines.settings import REPO_ROOT

# The dbt installed beside this Python, whether or not its virtualenv is activated.
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"

oasis_dbt_project = DbtProject(
    project_dir=REPO_ROOT / "dbt_project",
    profiles_dir=REPO_ROOT / "dbt_project",
)


def prepare_dbt_manifest() -> None:
    """`@dbt_assets` reads manifest.json at import: `oasis run`, `oasis ui` and the
    tests call this first (dagster-dbt only prepares it by itself under `dagster dev`)."""
    # The preparer runs the `dbt` on PATH: make it ours.
    dbt_folder = str(DBT_EXECUTABLE.parent)
    if dbt_folder not in os.environ["PATH"].split(os.pathsep):
        os.environ["PATH"] = dbt_folder + os.pathsep + os.environ["PATH"]
    oasis_dbt_project.preparer.prepare(oasis_dbt_project)


def dbt_cli_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=oasis_dbt_project, dbt_executable=str(DBT_EXECUTABLE))


@dbt_assets(manifest=oasis_dbt_project.manifest_path, project=oasis_dbt_project)
def oasis_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    # Unit tests check the SQL, not the data: `make test` runs them, runs need not.
    yield from dbt.cli(["build", "--exclude-resource-type", "unit_test"], context=context).stream()
