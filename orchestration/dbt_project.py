"""Where the dbt project is and how to prepare it. Kept apart from `orchestration.dbt`,
whose `@dbt_assets` reads manifest.json at import: this module must import without it."""

import os
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from pipelines.settings import REPO_ROOT

# The dbt installed beside this Python, whether or not its virtualenv is activated.
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"
# What Dagster runs: that dbt, killed with the process that started it (orchestration/dbt_child.py).
DBT_BOUND_TO_PARENT = Path(sys.executable).parent / "oasis-dbt"

oasis_dbt_project = DbtProject(
    project_dir=REPO_ROOT / "dbt_project",
    profiles_dir=REPO_ROOT / "dbt_project",
)


def prepare_dbt_manifest() -> None:
    """Writes manifest.json (`dbt parse`). `oasis run`, `oasis ui` and the tests call it
    first: dagster-dbt only prepares the project by itself under `dagster dev`."""
    # The preparer runs the `dbt` on PATH: make it ours.
    dbt_folder = str(DBT_EXECUTABLE.parent)
    if dbt_folder not in os.environ["PATH"].split(os.pathsep):
        os.environ["PATH"] = dbt_folder + os.pathsep + os.environ["PATH"]
    oasis_dbt_project.preparer.prepare(oasis_dbt_project)


def dbt_cli_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=oasis_dbt_project, dbt_executable=str(DBT_BOUND_TO_PARENT))
