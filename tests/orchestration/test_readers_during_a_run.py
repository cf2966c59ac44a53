"""Readers never disturb a run: `oasis check` and `oasis explain` read the audited snapshot
of the last good run while another run writes the working warehouse, and all three succeed
(a check used to take the working file's lock and make the run die in dbt)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.settings import REPO_ROOT
from pipelines.warehouse_lock import WarehouseBusyError, hold_warehouse_lock
from tests.conftest import BuiltWarehouse, copy_of

pytestmark = pytest.mark.e2e


def _oasis(home: Path, *arguments: str, wait: bool = True):
    command = [sys.executable, "-m", "orchestration.cli", *arguments]
    environment = {**os.environ, "OASIS_HOME": str(home)}
    if not wait:
        return subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    return subprocess.run(
        command, cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=900
    )


def _held(warehouse: Path) -> bool:
    try:
        with hold_warehouse_lock(warehouse):
            return False
    except WarehouseBusyError:
        return True


def test_a_check_and_an_explain_during_a_run_succeed_and_so_does_the_run(
    small_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    built = copy_of(small_warehouse, home)  # the last good run, with its audited snapshot
    row_id = built.scalar("select min(row_id) from marts.fct_invoice_line_pnl")
    snapshot = home / "warehouse.audited.duckdb"

    run = _oasis(home, "run", "--source", str(built.demo.out_dir), wait=False)
    try:
        deadline = time.monotonic() + 600
        while not _held(built.path):
            assert run.poll() is None, run.stdout.read()
            assert time.monotonic() < deadline, "the run never took the warehouse"
            time.sleep(0.5)
        check = _oasis(home, "check")
        explain = _oasis(home, "explain", row_id)
        output, _ = run.communicate(timeout=1800)
    finally:
        run.kill()

    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.startswith(f"oasis check: reading {snapshot} (run ")
    assert re.search(r"(\d+) of \1 checks passed, 0 with warnings, 0 with errors", check.stdout)
    assert explain.returncode == 0, explain.stdout + explain.stderr
    assert explain.stdout.startswith(f"oasis explain: reading {snapshot} (run ")
    assert row_id in explain.stdout
    assert run.returncode == 0, output[-3000:]
