"""Oasis on Apache Spark: `oasis run --engine spark` on the small demo runs every model
and data test in a local pyspark over the loader's raw Parquet, and Spark's P&L, customer
segments and policy flags equal those of the DuckDB run of the same extract (money to the
cent, counts, flags and reasons exactly). Spark's own Parquet tables are read here, not
the copy the run made in the warehouse, so the comparison is of what Spark computed. The
run connects to nothing outside the machine (strace, as tests/orchestration/
test_hostile_run.py for DuckDB)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date

import duckdb
import pytest

from pipelines.settings import REPO_ROOT
from pipelines.spark_tables import spark_tables_folder
from tests.conftest import BuiltWarehouse
from tests.network_trace import connections_outside_loopback, strace_prefix

pytestmark = [pytest.mark.e2e, pytest.mark.spark]


@dataclass(frozen=True)
class SparkRun:
    warehouse: BuiltWarehouse
    # connect() calls of the run and every process it started (the JVM included) to an
    # address outside the loopback.
    outside_connections: list[str]


@pytest.fixture(scope="module")
def spark_run(
    small_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> SparkRun:
    """`oasis run --engine spark` as a user starts it, in a process of its own under
    strace: Spark's JVM ends with the run, and every connection it makes is seen."""
    home = tmp_path_factory.mktemp("spark") / "home"
    warehouse = home / "warehouse.duckdb"
    trace = home.with_name("run.trace")
    done = subprocess.run(
        [
            *strace_prefix(trace),
            sys.executable,
            "-m",
            "orchestration.cli",
            "run",
            "--source",
            str(small_warehouse.demo.out_dir),
            "--warehouse",
            str(warehouse),
            "--engine",
            "spark",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "OASIS_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return SparkRun(
        BuiltWarehouse(warehouse, home, small_warehouse.demo, done.stdout),
        connections_outside_loopback(trace.read_text()),
    )


@pytest.fixture(scope="module")
def spark_warehouse(spark_run: SparkRun) -> BuiltWarehouse:
    return spark_run.warehouse


def test_spark_connects_to_nothing_outside_the_machine(spark_run: SparkRun) -> None:
    assert spark_run.outside_connections == []


def spark_table(warehouse: BuiltWarehouse, schema: str, table: str) -> str:
    """Spark's table as DuckDB reads its Parquet files."""
    files = spark_tables_folder(warehouse.path) / f"{schema}.db" / table / "*.parquet"
    return f"read_parquet('{files}', hive_partitioning = false)"


def test_the_spark_run_builds_and_tests_every_model_on_spark(
    spark_warehouse: BuiltWarehouse, small_warehouse: BuiltWarehouse
) -> None:
    output = spark_warehouse.run_output
    assert "Audit: no warnings." in output, output
    # Every model of the DuckDB run is a table of Spark's (views too: staging).
    with duckdb.connect(str(small_warehouse.path), read_only=True) as connection:
        models = connection.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('staging', 'intermediate', 'marts', 'audit')"
        ).fetchall()
    built_by_spark = {
        (folder.parent.name.removesuffix(".db"), folder.name)
        for folder in spark_tables_folder(spark_warehouse.path).glob("*.db/*")
        if any(folder.glob("*.parquet"))
    }
    assert set(models) <= built_by_spark, set(models) - built_by_spark


COMPARED = {
    "pnl_by_period": (
        "marts",
        "fct_invoice_line_pnl",
        """select period, row_kind, count(*), sum(net_revenue), sum(cogs), sum(freight_cost),
            sum(pool_cost_total), sum(pool_cost_variable), sum(carrying_cost), sum(bad_debt),
            sum(net_profit)
        from {table} group by period, row_kind order by period, row_kind""",
    ),
    "pnl_rows": (
        "marts",
        "fct_invoice_line_pnl",
        """select row_id, customer_id, round(net_profit, 2), round(pool_cost_total, 2)
        from {table} order by row_id""",
    ),
    "segments": (
        "marts",
        "customer_segments",
        """select as_of_period, customer_id, segment, quartile
        from {table} order by as_of_period, customer_id""",
    ),
    "policy_flags": (
        "marts",
        "customer_policy_flags",
        """select * from {table} order by as_of_period, customer_id""",
    ),
}


@pytest.mark.parametrize("name", COMPARED)
def test_spark_gives_the_same_numbers_as_duckdb(
    spark_warehouse: BuiltWarehouse, small_warehouse: BuiltWarehouse, name: str
) -> None:
    schema, table, query = COMPARED[name]
    on_duckdb = small_warehouse.query(query.format(table=f"{schema}.{table}"))
    with duckdb.connect() as connection:
        on_spark = connection.execute(
            query.format(table=spark_table(spark_warehouse, schema, table))
        ).fetchall()
    assert len(on_spark) == len(on_duckdb) > 0
    for spark_row, duckdb_row in zip(on_spark, on_duckdb, strict=True):
        for spark_value, duckdb_value in zip(spark_row, duckdb_row, strict=True):
            if isinstance(duckdb_value, str | int | bool | date) or duckdb_value is None:
                assert spark_value == duckdb_value, (spark_row, duckdb_row)
            else:
                assert abs(spark_value - duckdb_value) < 0.005, (spark_row, duckdb_row)
