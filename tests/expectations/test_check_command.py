"""`oasis check`: the suites on an existing warehouse, a summary, the report, an exit code."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orchestration.cli import TOOL_ENVIRONMENT, main
from tests.conftest import BuiltWarehouse


@pytest.fixture
def reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "reports"
    monkeypatch.setenv("OASIS_REPORTS", str(folder))
    # `oasis check` exports these; let monkeypatch put the old values back.
    for name in TOOL_ENVIRONMENT:
        monkeypatch.setenv(name, os.environ.get(name, ""))
    yield folder


def test_check_passes_on_the_clean_warehouse_and_writes_the_report(
    built_warehouse: BuiltWarehouse, reports: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exit_code = main(["check", "--warehouse", str(built_warehouse.path)])

    output = capsys.readouterr().out
    assert exit_code == 0
    assert "18 of 18 checks passed, 0 with warnings, 0 with errors." in output
    assert "PASS  allocation_pools_conserved" in output
    [report] = reports.glob("*-check/audit.html")
    assert f"Report: {report}" in output
    assert (report.parent / "gx_results.json").is_file()
    assert (report.parent / "audit_summary.json").is_file()
    assert f'href="{report.parent.name}/audit.html"' in (reports / "index.html").read_text()
    # It only read the warehouse: no rebuild, nothing published.
    assert not built_warehouse.path.with_name("warehouse.check.duckdb").exists()


def test_check_exits_non_zero_when_an_error_level_check_fails(
    built_warehouse: BuiltWarehouse,
    tampered: Callable[..., Path],
    reports: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    period = built_warehouse.scalar("select max(period) from raw.cost_pools")
    path = tampered(
        f"update raw.cost_pools set amount = amount + 0.01 where period = '{period}' "
        "and pool = 'customer_service'"
    )

    exit_code = main(["check", "--working", "--warehouse", str(path)])

    output = capsys.readouterr().out
    assert exit_code == 1
    assert "FAIL  allocation_pools_conserved" in output
    assert f"error: pool customer_service {period}: allocated " in output
    assert ", off by 0.01" in output
    assert "with errors." in output


def test_warnings_alone_do_not_fail_the_check(
    built_warehouse: BuiltWarehouse,
    tampered: Callable[..., Path],
    reports: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tampered(
        "insert into raw.quarantine by name select 'returns' as table_name, "
        "'bad.csv' as source_file, range + 1 as source_row, 'quantity' as column_name, "
        "'0' as bad_value, 'quantity must be above zero' as reason, '{}' as record_json, "
        "now() as loaded_at "
        "from range((select count(*) // 40 from raw.returns))"
    )

    exit_code = main(["check", "--working", "--warehouse", str(path)])

    output = capsys.readouterr().out
    assert exit_code == 0
    assert "WARN  extracts_quarantine_share" in output


def test_check_reads_the_audited_snapshot_and_says_which(
    built_warehouse: BuiltWarehouse, reports: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["check", "--warehouse", str(built_warehouse.path)])

    first_line = capsys.readouterr().out.splitlines()[0]
    snapshot = built_warehouse.path.with_name("warehouse.audited.duckdb")
    assert first_line.startswith(f"oasis check: reading {snapshot} (run ")
    assert "audited and published" in first_line


def test_check_without_a_warehouse_says_so(tmp_path: Path, reports: Path) -> None:
    nowhere = tmp_path / "nowhere.duckdb"
    with pytest.raises(SystemExit, match="no audited snapshot at .*nowhere.audited.duckdb"):
        main(["check", "--warehouse", str(nowhere)])
    with pytest.raises(SystemExit, match=f"no warehouse at {nowhere}"):
        main(["check", "--working", "--warehouse", str(nowhere)])
