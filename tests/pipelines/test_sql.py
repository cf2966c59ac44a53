"""pipelines/sql.py: any name or value comes back from DuckDB exactly as it went in."""

from __future__ import annotations

import duckdb

from pipelines.sql import quote_identifier, quote_literal

AWKWARD = "/data/Ünïcode o'Brien dir/\"quoted\" ''twice''; drop table x; --"


def test_a_quoted_value_is_one_string_literal() -> None:
    (value,) = duckdb.connect().execute(f"select {quote_literal(AWKWARD)}").fetchone()
    assert value == AWKWARD


def test_a_quoted_name_is_one_identifier() -> None:
    connection = duckdb.connect()
    connection.execute(f"create table {quote_identifier(AWKWARD)} as select 1 as one")
    assert connection.execute("select table_name from duckdb_tables()").fetchall() == [(AWKWARD,)]
