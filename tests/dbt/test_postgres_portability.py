"""The same dbt models on a real PostgreSQL 15: the raw tables of the end-to-end run are
copied over, `dbt build --target postgres` runs every model and data test, and the
P&L and segments must equal DuckDB's."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg2
import pytest
from dbt.cli.main import dbtRunner

from pipelines.contract import TABLES
from pipelines.settings import REPO_ROOT
from tests.conftest import BuiltWarehouse
from tests.postgres_server import PostgresServer, postgres_database

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

POSTGRES_TYPES = {
    "text": "text",
    "date": "date",
    "timestamp": "timestamp",
    "integer": "bigint",
    "decimal": "numeric(18, 6)",
    "boolean": "boolean",
}


def _copy_raw_tables(warehouse: Path, server: PostgresServer, scratch: Path) -> None:
    """Streams every raw table through a CSV file: nothing is held in Python."""
    with (
        duckdb.connect(str(warehouse), read_only=True) as source,
        psycopg2.connect(server.dsn("oasis")) as target,
        target.cursor() as cursor,
    ):
        cursor.execute("create schema raw")
        for table in TABLES.values():
            columns = ", ".join(f"{c.name} {POSTGRES_TYPES[c.type]}" for c in table.columns)
            cursor.execute(f"create table raw.{table.name} ({columns})")
            csv_file = scratch / f"{table.name}.csv"
            source.execute(
                f"copy (select {', '.join(table.column_names)} from raw.{table.name}) "
                f"to '{csv_file}' (header false)"
            )
            with csv_file.open() as rows:
                cursor.copy_expert(f"copy raw.{table.name} from stdin with (format csv)", rows)


@dataclass(frozen=True)
class PostgresWarehouse:
    server: PostgresServer
    build_failures: list[str]


def _dbt_build_on_postgres(server: PostgresServer, target_path: Path) -> list[str]:
    project = str(REPO_ROOT / "dbt_project")
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("OASIS_PG_HOST", server.host)
        environment.setenv("OASIS_PG_PORT", str(server.port))
        result = dbtRunner().invoke(
            [
                "build",
                "--target",
                "postgres",
                # Unit tests run on DuckDB; exposures build nothing (dbt reports NO-OP).
                "--exclude-resource-type",
                "unit_test",
                "--exclude-resource-type",
                "exposure",
                "--project-dir",
                project,
                "--profiles-dir",
                project,
                "--target-path",
                str(target_path),
            ]
        )
    if result.exception is not None:
        return [repr(result.exception)]
    return [
        f"{r.node.name}: {r.message}" for r in result.result if r.status not in ("success", "pass")
    ]


@pytest.fixture(scope="module")
def postgres_warehouse(
    built_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PostgresWarehouse]:
    with postgres_database("oasis") as server:
        _copy_raw_tables(built_warehouse.path, server, tmp_path_factory.mktemp("csv"))
        failures = _dbt_build_on_postgres(server, tmp_path_factory.mktemp("dbt_target"))
        yield PostgresWarehouse(server, failures)


def test_every_model_and_data_test_passes_on_postgres(
    postgres_warehouse: PostgresWarehouse,
) -> None:
    assert postgres_warehouse.build_failures == []


PNL_BY_PERIOD = """
    select period, row_kind, count(*), sum(net_revenue), sum(cogs), sum(pool_cost_total),
        sum(carrying_cost), sum(bad_debt), sum(net_profit)
    from marts.fct_invoice_line_pnl
    group by period, row_kind
    order by period, row_kind
"""
SEGMENTS = """
    select as_of_period, customer_id, segment, quartile
    from marts.customer_segments
    order by as_of_period, customer_id
"""


@pytest.mark.parametrize("query", [PNL_BY_PERIOD, SEGMENTS], ids=["pnl_by_period", "segments"])
def test_postgres_gives_the_same_numbers_as_duckdb(
    built_warehouse: BuiltWarehouse, postgres_warehouse: PostgresWarehouse, query: str
) -> None:
    with psycopg2.connect(postgres_warehouse.server.dsn("oasis")) as connection:
        cursor = connection.cursor()
        cursor.execute(query)
        on_postgres = cursor.fetchall()
    on_duckdb = built_warehouse.query(query)
    assert len(on_postgres) == len(on_duckdb) > 0
    for postgres_row, duckdb_row in zip(on_postgres, on_duckdb, strict=True):
        for postgres_value, duckdb_value in zip(postgres_row, duckdb_row, strict=True):
            if isinstance(duckdb_value, str | int):
                assert postgres_value == duckdb_value, (postgres_row, duckdb_row)
            else:
                assert abs(postgres_value - duckdb_value) < 0.01, (postgres_row, duckdb_row)
