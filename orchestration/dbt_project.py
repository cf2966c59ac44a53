"""Where the dbt project is and how to prepare it. Kept apart from `orchestration.dbt`,
whose `@dbt_assets` reads manifest.json at import: this module must import without it."""

import fcntl
import hashlib
import os
import re
import sys
from collections.abc import Mapping, Sequence
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from unittest.mock import patch

from dagster_dbt import DbtCliResource, DbtProject
from packaging.version import Version

from pipelines.settings import REPO_ROOT

# The dbt installed beside this Python, whether or not its virtualenv is activated.
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"
# What Dagster runs: that dbt, killed with the process that started it (orchestration/dbt_child.py).
DBT_BOUND_TO_PARENT = Path(sys.executable).parent / "oasis-dbt"


class OasisDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt resource, without its `dbt --version` call and without a dbt
    adapter in Dagster's process.

    dagster-dbt runs `dbt --version` before a resource's first dbt command (once for
    `dbt parse`, once for `dbt build`: two per `oasis run`) to tell dbt-core from dbt
    Fusion, and `dbt --version` always asks pypi.org for the latest dbt-core and for each
    installed adapter (a DNS lookup and an HTTPS connection each, dbt-core#6992): neither
    DO_NOT_TRACK nor `--no-version-check` / DBT_VERSION_CHECK, which only governs
    `require-dbt-version`, stops it. DBT_EXECUTABLE is the dbt-core installed beside this
    Python, so the package's version is the executable's.

    Before every dbt command, dagster-dbt also loads the project, the profile and dbt's
    macros into Dagster's own process and opens an adapter on the warehouse: 3.3 s before
    `dbt build` may start (50 customers, 3 months). The adapter serves only
    `fetch_row_counts()` and `fetch_column_metadata()`, which Oasis does not call;
    dagster-dbt goes on without one when none can be made."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


oasis_dbt_project = DbtProject(
    project_dir=REPO_ROOT / "dbt_project",
    profiles_dir=REPO_ROOT / "dbt_project",
)


# Beside manifest.json: the fingerprint of the project it was parsed from.
MANIFEST_FINGERPRINT = (
    oasis_dbt_project.project_dir / oasis_dbt_project.target_path / "manifest.fingerprint"
)


def prepare_dbt_manifest() -> None:
    """Writes manifest.json (`dbt parse`) when the project changed since the last parse.
    `oasis run`, `oasis ui` and the tests call it first: dagster-dbt only prepares the
    project by itself under `dagster dev`. Not through `oasis_dbt_project.preparer`, which
    builds a plain DbtCliResource (so `dbt --version`); the project has no packages.yml, so
    there is no `dbt deps` to run either.

    An unchanged project is not parsed again (3-6 s of every run's start-up, issue 16), and
    the check and the parse hold a lock: two runs started together from one checkout (two
    warehouses, or the test suite's workers) never read a manifest the other is writing."""
    MANIFEST_FINGERPRINT.parent.mkdir(parents=True, exist_ok=True)
    with (MANIFEST_FINGERPRINT.parent / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        fingerprint = project_fingerprint(oasis_dbt_project.project_dir, os.environ)
        if oasis_dbt_project.manifest_path.exists() and manifest_fingerprint() == fingerprint:
            return
        MANIFEST_FINGERPRINT.unlink(missing_ok=True)
        dbt = dbt_cli_resource()
        # Always for DuckDB, whatever OASIS_ENGINE says: the manifest gives Dagster its
        # assets, the same nodes on every engine, and runs on either engine share it. A
        # Spark run's dbt parses again for its own target (its configs differ:
        # dbt_project.yml): dbt's partial parsing keys on the environment variables the
        # profile read. So the engine goes in the environment, not in --target: a parse
        # with --target reads no OASIS_ENGINE, and every DuckDB run parsed again (13 s).
        with patch.dict(os.environ, {"OASIS_ENGINE": "duckdb"}):
            dbt.cli(["parse", "--quiet"], target_path=oasis_dbt_project.target_path).wait()
        MANIFEST_FINGERPRINT.write_text(fingerprint)


def manifest_fingerprint() -> str | None:
    """The project fingerprint that manifest.json was parsed from (None before a parse)."""
    return MANIFEST_FINGERPRINT.read_text() if MANIFEST_FINGERPRINT.exists() else None


# What `dbt parse` reads. profiles.yml is left out: its settings (the warehouse's path,
# threads, memory) are read when dbt runs, not baked into the manifest.
PARSED_FOLDERS = ("models", "macros", "tests", "seeds", "snapshots", "analyses")
_ENV_VAR_CALL = re.compile(r"env_var\(\s*['\"]([A-Za-z_][A-Za-z0-9_]*)['\"]")


def project_fingerprint(project_dir: Path, environ: Mapping[str, str]) -> str:
    """A digest of everything a parse depends on: dbt-core's version, dbt_project.yml and the
    files of the parsed folders, and the values of the environment variables they read with
    `env_var()` (a var such as `gl_tolerance` takes its default from one)."""
    digest = hashlib.sha256(installed_version("dbt-core").encode())
    files = [project_dir / "dbt_project.yml"] + sorted(
        path
        for folder in PARSED_FOLDERS
        for path in (project_dir / folder).rglob("*")
        if path.is_file()
    )
    variables: set[str] = set()
    for path in files:
        content = path.read_bytes()
        digest.update(str(path.relative_to(project_dir)).encode() + b"\0" + content + b"\0")
        variables.update(_ENV_VAR_CALL.findall(content.decode("utf-8", errors="replace")))
    for name in sorted(variables):
        digest.update(f"{name}={environ.get(name)}\0".encode())
    return digest.hexdigest()


def dbt_cli_resource() -> DbtCliResource:
    return OasisDbtCliResource(
        project_dir=oasis_dbt_project, dbt_executable=str(DBT_BOUND_TO_PARENT)
    )
