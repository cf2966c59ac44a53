"""What `oasis run` prints: one line per stage and a short summary, in a terminal and in
a log that is not one; Dagster's and dbt's whole log goes to run.log in the report folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.demo.erp import write_demo_erp
from pipelines.settings import REPO_ROOT
from tests.conftest import BuiltWarehouse

STAGE_LINES = ("ingest ", "dbt ", "report ", "audit ", "publish ")


def _run_log(built: BuiltWarehouse) -> str:
    [log] = (built.home / "reports").glob("*/run.log")
    return log.read_text()


def test_without_a_terminal_each_stage_prints_one_plain_line(
    built_warehouse: BuiltWarehouse,
) -> None:
    lines = built_warehouse.run_output.splitlines()
    for stage in STAGE_LINES:
        assert len([line for line in lines if line.startswith(stage)]) == 1, stage
    assert "START sql" not in built_warehouse.run_output
    assert "Quarantine" in built_warehouse.run_output
    assert "Audit" in built_warehouse.run_output
    assert len(lines) < 40


def test_the_run_log_holds_what_the_console_leaves_out(built_warehouse: BuiltWarehouse) -> None:
    log = _run_log(built_warehouse)
    assert re.search(r"\d+ of \d+ START sql (table|incremental|view) model", log)
    assert "STEP_SUCCESS" in log or "Finished execution of step" in log


def visible_lines(terminal_output: str) -> int:
    """Lines left on a terminal: rich redraws its live lines by moving the cursor up."""
    moved_up = sum(int(count or 1) for count in re.findall(r"\x1b\[(\d*)A", terminal_output))
    return terminal_output.count("\n") - moved_up


def test_visible_lines_discount_what_rich_redrew() -> None:
    assert visible_lines("a\nb\n\x1b[1A\x1b[2Kb done\nc\n") == 3


@pytest.mark.e2e
def test_in_a_terminal_a_run_prints_under_40_lines(tmp_path: Path) -> None:
    landing = write_demo_erp(tmp_path / "erp", customers=50, months=2).out_dir
    home = tmp_path / "home"
    command = f"{sys.executable} -m orchestration.cli run --source {landing}"
    # `script` gives the run a pseudo-terminal, as a user's shell would.
    completed = subprocess.run(
        ["script", "-qec", command, "/dev/null"],
        cwd=REPO_ROOT,
        env={**os.environ, "OASIS_HOME": str(home), "COLUMNS": "120"},
        capture_output=True,
        timeout=1200,
    )
    # Bytes, not text mode: universal newlines would turn rich's lone "\r" into lines.
    output = completed.stdout.decode().replace("\r\n", "\n")
    assert completed.returncode == 0, output[-3000:]
    assert visible_lines(output) < 40
    assert "Profit map, 12 months to" in output
    [log] = (home / "reports").glob("*/run.log")
    assert "START sql" in log.read_text()
