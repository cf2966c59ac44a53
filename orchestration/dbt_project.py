"""Where the dbt project is and how to prepare it. Kept apart from `orchestration.dbt`,
whose `@dbt_assets` reads manifest.json at import: this module must import without it."""

import sys
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging.version import Version

from pipelines.settings import REPO_ROOT

# The dbt installed beside this Python, whether or not its virtualenv is activated.
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"
# What Dagster runs: that dbt, killed with the process that started it (orchestration/dbt_child.py).
DBT_BOUND_TO_PARENT = Path(sys.executable).parent / "oasis-dbt"


class OasisDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt resource, without its `dbt --version` call.

    dagster-dbt runs `dbt --version` before a resource's first dbt command (once for
    `dbt parse`, once for `dbt build`: two per `oasis run`) to tell dbt-core from dbt
    Fusion, and `dbt --version` always asks pypi.org for the latest dbt-core and for each
    installed adapter (a DNS lookup and an HTTPS connection each, dbt-core#6992): neither
    DO_NOT_TRACK nor `--no-version-check` / DBT_VERSION_CHECK, which only governs
    `require-dbt-version`, stops it. DBT_EXECUTABLE is the dbt-core installed beside this
    Python, so the package's version is the executable's."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))


oasis_dbt_project = DbtProject(
    project_dir=REPO_ROOT / "dbt_project",
    profiles_dir=REPO_ROOT / "dbt_project",
)


def prepare_dbt_manifest() -> None:
    """Writes manifest.json (`dbt parse`). `oasis run`, `oasis ui` and the tests call it
    first: dagster-dbt only prepares the project by itself under `dagster dev`. Not through
    `oasis_dbt_project.preparer`, which builds a plain DbtCliResource (so `dbt --version`);
    the project has no packages.yml, so there is no `dbt deps` to run either."""
    dbt = dbt_cli_resource()
    dbt.cli(["parse", "--quiet"], target_path=oasis_dbt_project.target_path).wait()


def dbt_cli_resource() -> DbtCliResource:
    return OasisDbtCliResource(
        project_dir=oasis_dbt_project, dbt_executable=str(DBT_BOUND_TO_PARENT)
    )
