"""What `oasis run` prints: one line per stage and a short summary, in a terminal and in
a log that is not one; Dagster's and dbt's whole log goes to run.log in the report folder.
The run in a terminal: test_a_run_in_a_terminal_with_readers.py."""

from __future__ import annotations

import re

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
