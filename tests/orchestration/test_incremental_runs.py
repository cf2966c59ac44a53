"""Monthly partitions end to end: processing a new month, and re-processing an old month
after corrected extracts arrive, give the same warehouse as a full rebuild from scratch.

Every run is the real `oasis run` (Dagster, the loader, dbt build with its tests, the
audit). Money is compared exactly; double-precision columns (rates, shares) within a
relative 1e-9, since an incremental build adds the same numbers in another order.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.automation import partition_periods
from pipelines.demo.erp import DemoSummary, write_demo_erp
from pipelines.demo_deliveries import correct_month, deliver, land_before
from pipelines.landing import landing_scan
from tests.conftest import BuiltWarehouse, run_oasis
from tests.pipelines.test_raw_parquet import assert_warehouse_mirrored

pytestmark = pytest.mark.e2e

# Columns that say when, not what.
_WHEN_COLUMNS = {"built_at", "loaded_at"}


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return write_demo_erp(tmp_path_factory.mktemp("demo"), customers=50, months=5, seed=11)


def _run_changed_periods(
    demo: DemoSummary, home: Path, landing: Path, before: dict
) -> tuple[list[str], BuiltWarehouse]:
    """What the landing sensor does: run the closed periods whose files changed."""
    scan = landing_scan(landing)
    periods = sorted(scan.changed_periods_since(before) & set(partition_periods(scan)))
    return periods, run_oasis(demo, home, "--from", periods[0], "--to", periods[-1], source=landing)


def _tables(connection: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        f"{schema}.{name}"
        for schema, name in connection.execute(
            """
            select schema_name, table_name from duckdb_tables()
            where schema_name in ('raw', 'intermediate', 'marts')
                and not starts_with(table_name, '_')
            order by all
            """
        ).fetchall()
    ]


def _frame(connection: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame:
    frame = connection.execute(f"select * from {table}").df()
    frame = frame.drop(columns=[c for c in frame.columns if c in _WHEN_COLUMNS])
    floats = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
    ordering = frame.assign(**{c: frame[c].round(6) for c in floats}).astype(str)
    order = ordering.sort_values(list(ordering.columns)).index
    return frame.loc[order].reset_index(drop=True)


def assert_same_warehouse(incremental: BuiltWarehouse, full: BuiltWarehouse) -> None:
    # The runs of some periods left the raw Parquet equal to the raw tables too.
    assert_warehouse_mirrored(incremental.path)
    with (
        duckdb.connect(str(incremental.path), read_only=True) as left,
        duckdb.connect(str(full.path), read_only=True) as right,
    ):
        assert _tables(left) == _tables(right)
        for table in _tables(right):
            pd.testing.assert_frame_equal(
                _frame(left, table),
                _frame(right, table),
                check_exact=False,
                rtol=1e-9,
                obj=table,
            )


def test_a_new_month_then_a_corrected_old_month_equal_full_rebuilds(
    small_demo: DemoSummary, tmp_path: Path
) -> None:
    *history, new_month = small_demo.closed_periods
    old_month = history[1]
    landing = tmp_path / "landing"
    land_before(small_demo, landing, new_month)
    incremental_home = tmp_path / "incremental"
    run_oasis(small_demo, incremental_home, source=landing)

    before = landing_scan(landing).fingerprints()
    deliver(small_demo, landing, new_month)
    periods, after_new_month = _run_changed_periods(small_demo, incremental_home, landing, before)
    assert new_month in periods and len(periods) < len(small_demo.closed_periods)
    with duckdb.connect(str(after_new_month.path), read_only=True) as connection:
        counts = connection.execute(
            """
            select period between ? and ?, row_kind, built_at = last_build, count(*)
            from marts.fct_invoice_line_pnl
            cross join (select max(built_at) as last_build from marts.fct_invoice_line_pnl)
            group by all
            """,
            [periods[0], periods[-1]],
        ).fetchall()
    rows = {(in_run, rebuilt): 0 for in_run in (True, False) for rebuilt in (True, False)}
    for in_run, _, rebuilt, count in counts:
        rows[in_run, rebuilt] += count
    # Every row of the run's months; before them, only invoice rows whose carrying cost
    # moved with the as-of date (invoices still unpaid), a minority.
    assert rows[True, False] == 0
    assert {kind for in_run, kind, rebuilt, _ in counts if rebuilt and not in_run} == {"invoice"}
    assert 0 < rows[False, True] < rows[False, False]
    assert_same_warehouse(
        after_new_month, run_oasis(small_demo, tmp_path / "full_new_month", source=landing)
    )

    before = landing_scan(landing).fingerprints()
    correct_month(landing, old_month)
    periods, after_correction = _run_changed_periods(small_demo, incremental_home, landing, before)
    assert periods == [old_month]
    assert_same_warehouse(
        after_correction, run_oasis(small_demo, tmp_path / "full_corrected", source=landing)
    )
