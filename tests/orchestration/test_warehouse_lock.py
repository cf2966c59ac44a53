"""One run per warehouse: the run lock in plain Python, then a Dagster run that meets a
warehouse another process holds. The other process is a real child process: flock(2)
locks belong to open files, so only another process shows what a second run sees."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from dagster import (
    AssetKey,
    AssetsDefinition,
    DagsterInstance,
    ExecuteInProcessResult,
    asset,
    materialize,
)

import orchestration.resources
from orchestration.ingest import erp_extract_assets
from orchestration.resources import LandingFolderResource, WarehouseResource
from pipelines.demo.erp import write_demo_erp
from pipelines.settings import REPO_ROOT, SettingsError, resolve_settings
from pipelines.warehouse_lock import WarehouseBusyError, hold_warehouse_lock, lock_path
from tests.conftest import digest

HOLDER = """
import sys
from pathlib import Path
from pipelines.warehouse_lock import hold_warehouse_lock

with hold_warehouse_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


@contextmanager
def another_run_holding(warehouse: Path) -> Iterator[subprocess.Popen]:
    """A child process that holds the warehouse's lock until its stdin is closed."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "held\n"
        yield child
    finally:
        if child.stdin and not child.stdin.closed:
            child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def let_go(child: subprocess.Popen) -> None:
    assert child.stdin is not None
    child.stdin.close()


def test_a_second_holder_fails_at_once_naming_the_warehouse_and_the_pid_of_the_first(
    tmp_path: Path,
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with another_run_holding(warehouse) as child:
        started = time.monotonic()
        with pytest.raises(WarehouseBusyError) as busy, hold_warehouse_lock(warehouse):
            pytest.fail("the lock was taken twice")
    assert time.monotonic() - started < 1
    message = str(busy.value)
    assert f"the warehouse {warehouse} is in use by another run (pid {child.pid} on " in message
    assert "OASIS_WAREHOUSE_LOCK_WAIT" in message
    assert busy.value.warehouse == warehouse


def test_a_waiting_holder_says_so_and_gets_the_lock_when_the_first_lets_go(
    tmp_path: Path,
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    said: list[str] = []
    with another_run_holding(warehouse) as child:
        threading.Timer(1.0, let_go, [child]).start()
        started = time.monotonic()
        with hold_warehouse_lock(warehouse, wait_seconds=30, progress=said.append) as lock_file:
            waited = time.monotonic() - started
            assert lock_file.read_text().split()[0] == str(os.getpid())
    assert 0.8 < waited < 10
    assert len(said) == 1  # said once, not once per poll
    assert f"(pid {child.pid} on " in said[0] and "waiting up to 30 s" in said[0]


def test_a_waiting_holder_gives_up_after_its_wait(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with another_run_holding(warehouse) as child:
        started = time.monotonic()
        with (
            pytest.raises(WarehouseBusyError, match=f"pid {child.pid} .*after waiting 0.5 s"),
            hold_warehouse_lock(warehouse, wait_seconds=0.5, progress=lambda _: None),
        ):
            pytest.fail("the lock was taken twice")
    assert 0.5 <= time.monotonic() - started < 5


def test_the_lock_is_let_go_when_the_run_fails_and_leaves_no_pid_behind(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with pytest.raises(RuntimeError, match="a step failed"), hold_warehouse_lock(warehouse):
        raise RuntimeError("a step failed")
    assert lock_path(warehouse).read_text() == ""
    with another_run_holding(warehouse):
        pass  # the child got it


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with another_run_holding(warehouse) as child:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        with hold_warehouse_lock(warehouse):
            pass


def test_the_lock_wait_setting_is_whole_seconds_and_zero_by_default() -> None:
    assert resolve_settings({}).warehouse_lock_wait == 0
    settings = resolve_settings({"OASIS_WAREHOUSE_LOCK_WAIT": "600"})
    assert settings.warehouse_lock_wait == 600
    assert settings.as_environment()["OASIS_WAREHOUSE_LOCK_WAIT"] == "600"
    for wrong in ("-1", "soon", "1.5"):
        with pytest.raises(SettingsError, match=f"OASIS_WAREHOUSE_LOCK_WAIT is '{wrong}'"):
            resolve_settings({"OASIS_WAREHOUSE_LOCK_WAIT": wrong})


# Dagster: the warehouse resource holds the lock for its run.

CUSTOMERS = AssetKey(["erp", "customers"])
PRODUCTS = AssetKey(["erp", "products"])


def _erp_asset(key: AssetKey) -> AssetsDefinition:
    [found] = [asset for asset in erp_extract_assets if asset.key == key]
    return found


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo_erp(tmp_path_factory.mktemp("landing"), customers=50, months=2).out_dir


def _load(
    assets: list[AssetsDefinition],
    warehouse: Path,
    landing: Path,
    instance: DagsterInstance | None = None,
    **resource_config,
) -> ExecuteInProcessResult:
    return materialize(
        assets,
        instance=instance,
        resources={
            "warehouse": WarehouseResource(path=str(warehouse), **resource_config),
            "landing": LandingFolderResource(path=str(landing)),
        },
        raise_on_error=False,
    )


def _error_text(result: ExecuteInProcessResult) -> str:
    """What the UI shows of a failed run: its failure events' errors, causes included."""
    errors = [
        event.event_specific_data.error.to_string()
        for event in result.all_events
        if event.is_failure and getattr(event.event_specific_data, "error", None)
    ]
    return "\n".join(errors)


def test_a_run_meeting_a_held_warehouse_fails_clearly_and_leaves_it_unchanged(
    tmp_path: Path, landing: Path
) -> None:
    # Given a warehouse with the customers loaded, held by another run
    warehouse = tmp_path / "warehouse.duckdb"
    assert _load([_erp_asset(CUSTOMERS)], warehouse, landing).success
    before = digest(warehouse), warehouse.stat().st_mtime_ns
    with another_run_holding(warehouse) as child:
        # When the customers are loaded again
        result = _load([_erp_asset(CUSTOMERS)], warehouse, landing)

    # Then the run fails before its first step, naming the warehouse and the holder
    assert not result.success
    assert not [event for event in result.all_events if event.is_step_start]
    error = _error_text(result)
    assert "WarehouseBusyError" in error
    assert f"the warehouse {warehouse} is in use by another run (pid {child.pid} on " in error
    # And the warehouse is untouched
    after = digest(warehouse), warehouse.stat().st_mtime_ns
    assert after == before


def test_a_run_told_to_wait_says_so_in_its_log_and_runs_once_the_warehouse_is_free(
    tmp_path: Path, landing: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    instance = DagsterInstance.ephemeral()
    with another_run_holding(warehouse) as child:
        threading.Timer(1.0, let_go, [child]).start()
        result = _load(
            [_erp_asset(CUSTOMERS)], warehouse, landing, instance=instance, lock_wait_seconds=30
        )
    assert result.success
    log = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert any(f"(pid {child.pid} on " in line and "waiting up to 30 s" in line for line in log)


def test_a_run_takes_the_lock_once_and_holds_it_through_every_step(
    tmp_path: Path, landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    taken: list[Path] = []
    real_lock = orchestration.resources.hold_warehouse_lock

    def counted_lock(path: Path, *args, **kwargs):
        taken.append(path)
        return real_lock(path, *args, **kwargs)

    monkeypatch.setattr(orchestration.resources, "hold_warehouse_lock", counted_lock)

    @asset(deps=[CUSTOMERS, PRODUCTS])
    def lock_holder_seen_by_a_later_step(warehouse: WarehouseResource) -> str:
        return lock_path(Path(warehouse.path)).read_text()

    result = _load(
        [_erp_asset(CUSTOMERS), _erp_asset(PRODUCTS), lock_holder_seen_by_a_later_step],
        warehouse,
        landing,
    )
    assert result.success
    assert taken == [warehouse]  # once for three steps
    holder = result.output_for_node("lock_holder_seen_by_a_later_step")
    assert holder.split()[0] == str(os.getpid())
    assert lock_path(warehouse).read_text() == ""  # let go at the end of the run
