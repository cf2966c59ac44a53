"""A run killed with `kill -9`: its dbt dies with it, and the next start marks it failed so
that the run queue (one run per warehouse) is not held by it for good."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus

from pipelines.demo.erp import write_demo_erp
from pipelines.settings import REPO_ROOT
from pipelines.warehouse_lock import lock_path, read_lock_holder
from tests.conftest import run_oasis

pytestmark = pytest.mark.e2e


def _children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdecimal():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces, so split after its ')'.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return children


def _command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _environment(pid: int) -> dict[str, str]:
    variables = (Path("/proc") / str(pid) / "environ").read_bytes().split(b"\0")
    return dict(v.decode().split("=", 1) for v in variables if b"=" in v)


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; it only waits for its parent to reap it


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no {what} within {timeout:g} s")


def test_a_killed_run_takes_its_dbt_along_and_the_next_run_marks_it_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given `oasis run` in a process of its own, in the middle of its `dbt build`
    demo = write_demo_erp(tmp_path / "landing", customers=60, months=3, seed=3)
    home = tmp_path / "home"
    warehouse = home / "warehouse.duckdb"
    environment = {**os.environ, "OASIS_HOME": str(home)}
    run = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "run", "--source", str(demo.out_dir)],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # (dbt itself: oasis-dbt, bound to its parent, has become dbt)
        dbt = _wait_for(
            lambda: next(
                (
                    child
                    for child in _children(run.pid)
                    if " build " in f"{_command_line(child)} "
                    and "oasis-dbt" not in _command_line(child)
                ),
                None,
            ),
            timeout=180,
            what="dbt build child of `oasis run`",
        )
        holder = read_lock_holder(warehouse)
        assert holder is not None and holder.pid == run.pid and holder.run_id
        # where this dbt writes run_results.json, once its build has ended
        dbt_target = REPO_ROOT / "dbt_project" / _environment(dbt)["DBT_TARGET_PATH"]

        # When it is killed
        os.kill(run.pid, signal.SIGKILL)
        run.wait()

        # Then its dbt dies with it and never ends its build (it used to run on for 16 s).
        # Dying may take a few seconds when DuckDB waits on the disk, shared with the other
        # test worker (3 s was once too short); a dbt left running would either outlive
        # the 10 s or finish its build, writing its run results.
        _wait_for(lambda: not _alive(dbt), timeout=10, what="end of the orphaned dbt")
        assert not (dbt_target / "run_results.json").exists()
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()

    # and its Dagster run still shows as started, the lock file still naming it
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    with DagsterInstance.get() as instance:
        assert instance.get_run_by_id(holder.run_id).status == DagsterRunStatus.STARTED
    assert read_lock_holder(warehouse).is_gone

    # When Oasis runs again, it marks that run failed with the reason, and completes
    rerun = run_oasis(demo, home)
    assert f"Run {holder.run_id} was killed (pid {run.pid} on " in rerun.run_output
    with DagsterInstance.get() as instance:
        dead = instance.get_run_by_id(holder.run_id)
        assert dead.status == DagsterRunStatus.FAILURE
        [failure] = [
            entry
            for entry in instance.all_logs(holder.run_id)
            if entry.dagster_event and entry.dagster_event.is_run_failure
        ]
        assert "is gone without ending the run: it was killed" in failure.dagster_event.message
    assert lock_path(warehouse).read_text() == ""
    assert rerun.scalar("select count(*) from marts.fct_invoice_line_pnl") > 0
