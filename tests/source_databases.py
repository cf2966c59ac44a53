"""Loads a demo extract into a PostgreSQL database, for the tests of database sources:
as the contract's own tables (CONTRACT.md: one table per contract table, same columns)."""

from __future__ import annotations

from pathlib import Path

import adbc_driver_postgresql.dbapi as adbc
import duckdb
import pyarrow as pa

from pipelines.contract import LOAD_ORDER, TABLES
from pipelines.sql import quote_identifier, quote_literal


def contract_table(landing: Path, table: str) -> pa.Table:
    """The table's records of the landing folder, typed as the contract says."""
    contract = TABLES[table]
    columns = ", ".join(
        f"cast({quote_identifier(c.name)} as {c.warehouse_type}) as {quote_identifier(c.name)}"
        for c in contract.columns
    )
    files = str(Path(landing) / table / "*.parquet")
    con = duckdb.connect()
    return con.sql(f"select {columns} from read_parquet({quote_literal(files)})").to_arrow_table()


def load_contract_tables(dsn: str, landing: Path, tables=LOAD_ORDER) -> None:
    with adbc.connect(dsn) as connection, connection.cursor() as cursor:
        for table in tables:
            cursor.adbc_ingest(table, contract_table(landing, table), mode="create")
        connection.commit()
