"""Shared fixtures: one small demo extract and one warehouse built from it by the real
`oasis run` (Dagster, the loader, dbt build with its tests, the report), per session."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import pickle
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb
import pytest

from pipelines.contract import TABLES
from pipelines.demo.erp import DemoSummary, write_demo_erp

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

# The default demo of `make run` (800 customers, 24 months, seed 7): ~140 thousand lines,
# two years for year-on-year stories, and the shape the README promises.
DEMO = {"customers": 800, "months": 24, "seed": 7}
# The smallest demo write_demo_erp allows (50 customers, 2 closed months): for tests that need
# a warehouse built by a run and then run again on it, not the default demo's stories.
SMALL_DEMO = {"customers": 50, "months": 2, "seed": 7}


@dataclass(frozen=True)
class BuiltWarehouse:
    path: Path
    home: Path
    demo: DemoSummary
    run_output: str

    def query(self, sql: str, parameters: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as connection:
            return connection.execute(sql, parameters or []).fetchall()

    def scalar(self, sql: str, parameters: list | None = None):
        return self.query(sql, parameters)[0][0]


# The layers of the test pyramid (markers registered in pyproject.toml): `pytest -m unit`
# runs what needs no end-to-end `oasis run`. A test is e2e when it reads a warehouse built by
# `oasis run` (these fixtures) or is marked so because it runs `oasis` itself.
END_TO_END_FIXTURES = {"built_warehouse", "long_demo_warehouse", "small_warehouse"}
LAYERS_BESIDE_UNIT = ("e2e", "postgres", "spark", "browser")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Modules marked e2e by their authors (they run `oasis`, PostgreSQL or a browser
    # themselves: a minute or more each) go first: `make test` hands whole modules to two
    # workers in this order (--no-loadscope-reorder), and a long module last keeps one
    # worker busy while the other idles (xdist's own order, by number of tests, put the
    # five-run incremental test, 7.5 min, at the end). Among them, those that wait for no
    # session warehouse, then those that read the small one (a minute to build), then the
    # rest: the default demo takes some 3 minutes.
    warehouses = {
        item: END_TO_END_FIXTURES & set(getattr(item, "fixturenames", ())) for item in items
    }
    heavy = {item.module.__name__ for item in items if item.get_closest_marker("e2e")}
    waits_for: dict[str, int] = {}
    for item, fixtures in warehouses.items():
        wait = 2 if fixtures - {"small_warehouse"} else 1 if fixtures else 0
        waits_for[item.module.__name__] = max(wait, waits_for.get(item.module.__name__, 0))
    items.sort(
        key=lambda item: (item.module.__name__ not in heavy, waits_for[item.module.__name__])
    )
    for item in items:
        if warehouses[item]:
            item.add_marker(pytest.mark.e2e)
        if not any(item.get_closest_marker(layer) for layer in LAYERS_BESIDE_UNIT):
            item.add_marker(pytest.mark.unit)


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> None:
    """manifest.json, which importing the Dagster definitions needs (a fresh clone has none)."""
    from orchestration.dbt_project import prepare_dbt_manifest

    prepare_dbt_manifest()


@pytest.fixture(autouse=True)
def no_dagster_instance_left_current() -> Iterator[None]:
    """Fails the test that leaves a Dagster instance's definitions-state storage current.
    Entering an instance (`with DagsterInstance...`, or an evaluation context that opens one
    from its reference and is not closed) makes its storage the process's current one; once
    that instance is gone, every later test in the same worker that resolves Definitions
    fails with "Attempted to resolve undefined DagsterInstance weakref", far from the cause
    (CI failed so on 2026-12-02). Dagster has no public way to read it: the private getter."""
    from dagster._core.storage.defs_state.base import DefsStateStorage

    before = DefsStateStorage.get()
    yield
    assert DefsStateStorage.get() is before, (
        "this test left a Dagster instance current: enter instances and "
        "build_*_context(...) with `with`"
    )


Built = TypeVar("Built")


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], Built]
) -> Built:
    """`build(folder)` once per pytest run, whatever the number of xdist workers (`make
    test` runs two): the first worker to ask builds under a lock in the run's shared
    temporary folder, the others wait and read what it pickled there. A plain pytest
    process has that folder to itself."""
    # A worker's base folder is `popen-gwN` inside the run's own.
    run_folder = tmp_path_factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:
        run_folder = run_folder.parent
    shared = run_folder / "built_once"
    shared.mkdir(exist_ok=True)
    result = shared / f"{name}.pickle"
    with (shared / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not result.exists():
            folder = shared / name
            folder.mkdir()
            result.write_bytes(pickle.dumps(build(folder)))
    return pickle.loads(result.read_bytes())


@pytest.fixture(scope="session")
def demo_extract(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return built_once(tmp_path_factory, "landing", lambda folder: write_demo_erp(folder, **DEMO))


def run_oasis(
    demo: DemoSummary,
    home: Path,
    *options: str,
    source: Path | None = None,
    warehouse: Path | None = None,
) -> BuiltWarehouse:
    """The real `oasis run` on a demo extract (or another landing folder), with `home` as
    OASIS_HOME, the warehouse in it unless given, and `options` such as `--period 2026-10`.
    The command exports its settings for Dagster and dbt; the caller's environment is
    restored."""
    from orchestration.cli import main

    warehouse = warehouse or home / "warehouse.duckdb"
    landing = source or demo.out_dir
    saved_environment = dict(os.environ)
    os.environ["OASIS_HOME"] = str(home)
    try:
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            exit_code = main(
                ["run", "--source", str(landing), "--warehouse", str(warehouse), *options]
            )
    finally:
        os.environ.clear()
        os.environ.update(saved_environment)
    assert exit_code == 0, output.getvalue()
    return BuiltWarehouse(warehouse, home, demo, output.getvalue())


def warehouse_built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], BuiltWarehouse]
) -> BuiltWarehouse:
    """A warehouse `build` makes once per pytest run (`built_once`), handed to each worker as
    a copy of its own: a worker's tests may write into their home (reports, `oasis check`,
    snapshots) while another worker's tests read theirs."""
    original = built_once(tmp_path_factory, name, build)
    return copy_of(original, tmp_path_factory.mktemp(name) / "home")


@pytest.fixture(scope="session")
def built_warehouse(
    demo_extract: DemoSummary, tmp_path_factory: pytest.TempPathFactory
) -> BuiltWarehouse:
    return warehouse_built_once(
        tmp_path_factory, "oasis_home", lambda folder: run_oasis(demo_extract, folder)
    )


@pytest.fixture(scope="session")
def small_warehouse(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    """A warehouse of SMALL_DEMO built once per pytest run: tests take a `copy_of` it instead
    of each paying a run of their own (a run's fixed cost, not the demo's size, dominates)."""

    def build(folder: Path) -> BuiltWarehouse:
        demo = write_demo_erp(folder / "landing", **SMALL_DEMO)
        return run_oasis(demo, folder / "home")

    return warehouse_built_once(tmp_path_factory, "small_oasis_home", build)


# The long demo of the policy stories: the default demo (24 months) reaches one yearly
# window back; the lifetime exemption looks three years back, and with 10 reps a handful of
# invoices decides who overrides most. 40 months give complete yearly windows back three
# years, for growth and for the lifetime exemption.
LONG_DEMO = {"customers": 200, "months": 40, "seed": 7}


@pytest.fixture(scope="session")
def long_demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    def build(folder: Path) -> BuiltWarehouse:
        return run_oasis(write_demo_erp(folder / "landing", **LONG_DEMO), folder / "home")

    return warehouse_built_once(tmp_path_factory, "long_oasis_home", build)


# Which xdist worker builds which of the session's warehouses before its first test: the
# default demo on one worker, the small and the long demo on the other. Left to the tests'
# order, both workers' first modules want the default demo and one waits idle for the
# other's build (146 s of a fresh clone's `make test`).
BUILT_FIRST_BY_WORKER = {
    "gw0": ("built_warehouse",),
    "gw1": ("small_warehouse", "long_demo_warehouse"),
}


@pytest.fixture(scope="session", autouse=True)
def warehouses_built_first(request: pytest.FixtureRequest, dbt_manifest: None) -> None:
    needed = {name for item in request.session.items for name in item.fixturenames}
    for name in BUILT_FIRST_BY_WORKER.get(os.environ.get("PYTEST_XDIST_WORKER", ""), ()):
        if name in needed:  # not when the run selects no test that reads it
            request.getfixturevalue(name)


def copy_of(built: BuiltWarehouse, home: Path) -> BuiltWarehouse:
    """The whole OASIS_HOME of `built` (warehouse, audited and published snapshots, settings,
    landing index, Dagster history) copied to `home`, for a test that runs on it again: the
    next run there sees what it would after `built`'s run. Every path in it is relative to
    the home; the landing folder it indexed is the demo's, shared and never changed. Links
    stay links: `exports/marts` is one that the next publication switches."""
    shutil.copytree(built.home, home, symlinks=True)
    # What the run printed, as if it had run in the copy: its paths name the copy's files.
    run_output = built.run_output.replace(str(built.home), str(home))
    return BuiltWarehouse(home / built.path.name, home, built.demo, run_output)


def extract_views(out_dir: Path) -> duckdb.DuckDBPyConnection:
    """A connection with every table of the extract in `out_dir` as a view of its Parquet
    files, typed as the warehouse types them, with the file each record came from
    (`filename`): the demo extract as the tests read it without a warehouse."""
    connection = duckdb.connect()
    for name, table in TABLES.items():
        columns = ", ".join(f"{c.name}::{c.warehouse_type} as {c.name}" for c in table.columns)
        connection.execute(
            f"create view {name} as select {columns}, filename "
            f"from read_parquet('{out_dir / name}/*.parquet', filename = true)"
        )
    return connection


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_digest(folder: Path) -> dict[str, str]:
    """Every file and link under `folder`, by content: what a test compares to prove a
    step left a folder as it was (the feeds and Parquet marts, a warehouse's home)."""
    return {
        str(path.relative_to(folder)): f"-> {path.readlink()}"
        if path.is_symlink()
        else digest(path)
        for path in sorted(folder.rglob("*"))
        if path.is_symlink() or path.is_file()
    }
