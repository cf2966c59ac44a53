"""`make bench`'s arithmetic and what it reads from a real run's Dagster history (the bench
itself runs on a quiet machine, never in the suite)."""

import math
from pathlib import Path

import pytest

from orchestration.benchmark import (
    BenchRunFailed,
    BenchSize,
    FailedSize,
    Measurement,
    MonthlyRuns,
    TimedRun,
    _run_statistics,
    _timed_oasis_run,
    growth_exponents,
    write_report,
)
from tests.conftest import BuiltWarehouse


def test_the_growth_exponent_is_one_for_linear_time_and_below_for_fixed_costs():
    linear = growth_exponents([(1_000_000, 10.0), (100_000, 1.0)])
    assert linear == [(100_000, 1_000_000, pytest.approx(1.0))]
    [(_, _, flat)] = growth_exponents([(100_000, 50.0), (1_000_000, 70.0)])
    assert flat == pytest.approx(math.log(70 / 50) / math.log(10))


def _run(seconds: float, nodes: dict[str, float]) -> TimedRun:
    return TimedRun(seconds, 1.5, {"oasis_dbt_models": seconds / 2}, nodes)


def test_the_report_lists_the_nodes_above_one_percent_of_their_run(tmp_path: Path):
    full = _run(100.0, {"marts/fct_invoice_line_pnl": 12.0, "marts/profit_map": 0.5})
    measurements = [
        Measurement(BenchSize(100_000), 99_000, 585, 0.6, full, 0.02, None),
        Measurement(
            BenchSize(1_000_000),
            1_000_000,
            5_848,
            2.2,
            _run(200.0, {}),
            0.09,
            MonthlyRuns(["2026-10"], _run(30.0, {}), "2025-11", _run(20.0, {})),
        ),
    ]
    # Spark's sizes have curves of their own, never joined to DuckDB's.
    measurements += [
        Measurement(
            BenchSize(100_000, engine="spark"), 99_000, 585, 0.6, _run(60.0, {}), 0.02, None
        ),
        Measurement(
            BenchSize(1_000_000, engine="spark"), 1_000_000, 5_848, 2.2, _run(240.0, {}), 0.09, None
        ),
    ]
    report = tmp_path / "benchmarks.md"
    write_report(measurements, report, "make bench")
    text = report.read_text()
    assert "| spark | 99,000 | 1,000,000 | 0.60 |" in text  # log(4) / log(1e6 / 99e3)
    assert "| spark | 99,000 | 24 | 585 |" in text
    assert "`marts/fct_invoice_line_pnl` 12.0" in text
    assert "profit_map" not in text
    assert "| duckdb | 99,000 | 1,000,000 | 0.30 |" in text  # log(2) / log(1e6 / 99e3)
    assert "| 1,000,000 | 24 | 200.0 | 2026-10 to 2026-10 | 30.0 | 15% |" in text


def test_the_run_statistics_come_from_the_runs_dagster_history(
    small_warehouse: BuiltWarehouse, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("DAGSTER_HOME", str(small_warehouse.home / "dagster"))
    stages, nodes = _run_statistics(small_warehouse.home / "dagster")
    assert {"ingest (all extracts)", "oasis_dbt_models", "audited_warehouse"} <= set(stages)
    assert all(seconds >= 0 for seconds in stages.values())
    assert "marts/fct_invoice_line_pnl" in nodes
    assert any(not name.startswith(("marts/", "intermediate/", "staging/")) for name in nodes)


def test_a_failed_run_is_raised_with_its_last_lines_and_reported_beside_what_was_measured(
    tmp_path: Path,
):
    # A real `oasis run` in a child process, refused before it starts: an empty landing.
    landing = tmp_path / "landing"
    (landing / "invoices").mkdir(parents=True)
    with pytest.raises(BenchRunFailed) as raised:
        _timed_oasis_run(tmp_path / "home", landing)
    assert "exited with 1" in str(raised.value)
    assert f"the landing folder {landing} holds no extract" in raised.value.output

    measured = Measurement(BenchSize(100_000), 99_000, 585, 0.6, _run(50.0, {}), 0.02, None)
    failure = FailedSize(BenchSize(10_000_000), str(raised.value), raised.value.output)
    report = tmp_path / "benchmarks.md"
    write_report([measured], report, "make bench", [failure], [BenchSize(30_000_000)])
    text = report.read_text()
    assert "**In progress:** still to run: ~30,000,000 lines, 24 months." in text
    assert "~10,000,000 lines, 24 months: did not complete, `OASIS_HOME=" in text
    assert f"the landing folder {landing} holds no extract" in text
    assert "| 99,000 | 24 | 585 | 0.6 | 50.0 |" in text
