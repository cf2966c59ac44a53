"""`oasis run` refuses what it can check before Dagster and dbt start (some 20 s of start-up):
the refusal is the last line, and neither dbt nor the Dagster instance was touched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.demo.erp import write_demo_erp
from pipelines.warehouse_lock import hold_warehouse_lock

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo_erp(tmp_path_factory.mktemp("erp"), customers=50, months=2).out_dir


def _oasis_run(home: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", *arguments],
        env={**os.environ, "OASIS_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _assert_refused_before_start(result: subprocess.CompletedProcess, home: Path, words: str):
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert words in last_line
    assert "Traceback" not in result.stderr
    assert "Reading the dbt project" not in result.stdout
    assert not (home / "dagster").exists()


def test_a_range_backwards_is_refused_before_start(tmp_path: Path, landing: Path) -> None:
    result = _oasis_run(tmp_path, "--source", str(landing), "--from", "2026-06", "--to", "2026-01")
    _assert_refused_before_start(result, tmp_path, "--from 2026-06 comes after --to 2026-01")


def test_an_empty_landing_folder_is_refused_before_start(tmp_path: Path) -> None:
    empty = tmp_path / "landing"
    (empty / "invoices").mkdir(parents=True)
    result = _oasis_run(tmp_path, "--source", str(empty))
    _assert_refused_before_start(result, tmp_path, f"the landing folder {empty} holds no extract")


def test_a_password_in_the_source_url_is_refused_before_start_and_never_shown(
    tmp_path: Path,
) -> None:
    result = _oasis_run(tmp_path, "--source", "postgresql://erp:s3cret@127.0.0.1:1/erp")
    _assert_refused_before_start(result, tmp_path, "PGPASSWORD or a ~/.pgpass file")
    assert "s3cret" not in result.stdout + result.stderr


def test_a_bad_mapping_line_is_refused_before_start(tmp_path: Path, landing: Path) -> None:
    mapping = tmp_path / "erp.yml"
    mapping.write_text(
        "version: 1\ntables:\n  customers:\n    from: partners\n    key: id\n"
        "    columns:\n      customer_id: id\n      customer_name: name\n"
        "      territory: area\n"
    )
    result = _oasis_run(tmp_path, "--source", str(landing), "--mapping", str(mapping))
    _assert_refused_before_start(
        result, tmp_path, f"{mapping}, line 9: customers.territory is not a column"
    )


def test_a_warehouse_in_use_is_refused_before_start(tmp_path: Path, landing: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with hold_warehouse_lock(warehouse):
        result = _oasis_run(tmp_path, "--source", str(landing))
    _assert_refused_before_start(result, tmp_path, f"the warehouse {warehouse} is in use")
    assert f"pid {os.getpid()}" in result.stderr


def test_a_folder_it_cannot_create_is_refused_before_start(tmp_path: Path, landing: Path) -> None:
    # A file where the exports folder should be: unwritable even for root, unlike chmod.
    blocked = tmp_path / "exports"
    blocked.write_text("not a folder")
    result = _oasis_run(tmp_path, "--source", str(landing))
    _assert_refused_before_start(result, tmp_path, f"cannot create {blocked}")


def test_the_open_month_is_refused_because_its_cost_pools_have_not_landed(
    tmp_path: Path, landing: Path
) -> None:
    # The demo's last month, 2026-11, has facts and no cost pools yet.
    result = _oasis_run(tmp_path, "--source", str(landing), "--period", "2026-11")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "oasis: 2026-11 is not closed: its cost pools have not landed in the extracts (its "
        "facts wait for them); the closed periods (with cost pools) are 2026-09 to 2026-10"
    )


def test_a_misspelt_flag_shows_the_usage_of_its_command(tmp_path: Path) -> None:
    result = _oasis_run(tmp_path, "--peroid", "2026-10")
    assert result.returncode == 2
    assert result.stderr.startswith("usage: oasis run ")
    assert "oasis run: error: unrecognized arguments: --peroid 2026-10" in result.stderr


def test_a_demo_too_small_for_its_stories_shows_the_usage_not_a_traceback(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "demo", "--out", str(tmp_path / "demo")]
        + ["--customers", "30"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("usage: oasis demo ")
    assert result.stderr.strip().splitlines()[-1] == (
        "oasis demo: error: customers must be at least 50, not 30"
    )
    assert not (tmp_path / "demo").exists()


def test_every_flag_of_every_command_says_what_it_does() -> None:
    from orchestration.cli import _parser

    [commands] = [action for action in _parser()._actions if action.choices]
    undocumented = [
        f"{name} {option.option_strings}"
        for name, command in commands.choices.items()
        for option in command._actions
        if not option.help
    ]
    assert undocumented == []
