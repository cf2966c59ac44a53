"""One `oasis run` as a user starts it, in a terminal, while readers come and go:
- readers never disturb a run: `oasis check` and `oasis explain` read the audited snapshot
  of the last good run while the run writes the working warehouse, and all three succeed
  (a check used to take the working file's lock and make the run die in dbt);
- in a terminal the run prints under 40 lines, the whole log going to run.log.

One run serves both: each alone cost `make test` a run of the small demo (70 s)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.settings import REPO_ROOT
from pipelines.warehouse_lock import WarehouseBusyError, hold_warehouse_lock
from tests.conftest import BuiltWarehouse, copy_of
from tests.orchestration.test_console import visible_lines

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class TerminalRun:
    home: Path
    returncode: int
    terminal_output: str  # what the terminal received, escape sequences and all
    check: subprocess.CompletedProcess
    explain: subprocess.CompletedProcess
    explained_row_id: str


def _oasis(home: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *arguments],
        cwd=REPO_ROOT,
        env={**os.environ, "OASIS_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=900,
    )


def _held(warehouse: Path) -> bool:
    try:
        with hold_warehouse_lock(warehouse):
            return False
    except WarehouseBusyError:
        return True


@pytest.fixture(scope="module")
def terminal_run(
    small_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> TerminalRun:
    home = tmp_path_factory.mktemp("terminal") / "home"
    built = copy_of(small_warehouse, home)  # the last good run, with its audited snapshot
    row_id = built.scalar("select min(row_id) from marts.fct_invoice_line_pnl")
    command = f"{sys.executable} -m orchestration.cli run --source {built.demo.out_dir}"
    # `script` gives the run a pseudo-terminal, as a user's shell would.
    run = subprocess.Popen(
        ["script", "-qec", command, "/dev/null"],
        cwd=REPO_ROOT,
        env={**os.environ, "OASIS_HOME": str(home), "COLUMNS": "120"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 600
        while not _held(built.path):
            assert run.poll() is None, run.stdout.read().decode()
            assert time.monotonic() < deadline, "the run never took the warehouse"
            time.sleep(0.5)
        check = _oasis(home, "check")
        explain = _oasis(home, "explain", row_id)
        output, _ = run.communicate(timeout=1800)
    finally:
        run.kill()
    # Bytes, not text mode: universal newlines would turn rich's lone "\r" into lines.
    terminal_output = output.decode().replace("\r\n", "\n")
    return TerminalRun(home, run.returncode, terminal_output, check, explain, row_id)


def test_a_check_and_an_explain_during_a_run_succeed_and_so_does_the_run(
    terminal_run: TerminalRun,
) -> None:
    snapshot = terminal_run.home / "warehouse.audited.duckdb"
    check, explain = terminal_run.check, terminal_run.explain
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.startswith(f"oasis check: reading {snapshot} (run ")
    assert re.search(r"(\d+) of \1 checks passed, 0 with warnings, 0 with errors", check.stdout)
    assert explain.returncode == 0, explain.stdout + explain.stderr
    assert explain.stdout.startswith(f"oasis explain: reading {snapshot} (run ")
    assert terminal_run.explained_row_id in explain.stdout
    assert terminal_run.returncode == 0, terminal_run.terminal_output[-3000:]


def test_in_a_terminal_a_run_prints_under_40_lines(terminal_run: TerminalRun) -> None:
    output = terminal_run.terminal_output
    assert terminal_run.returncode == 0, output[-3000:]
    assert visible_lines(output) < 40
    assert "Profit map, 12 months to" in output
    # The report folders are named by start time: the last is this run's, beside the
    # small warehouse's own.
    log = sorted((terminal_run.home / "reports").glob("*/run.log"))[-1]
    assert "START sql" in log.read_text()
