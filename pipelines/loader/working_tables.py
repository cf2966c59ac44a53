"""The working tables one load shares between its steps, and the SQL pieces they all use.

A load is a pipeline of set-based SQL steps (reading, checks, writing), each reading the
tables of the ones before it; this module is where those tables are named, so that no
step needs to import another to find them, and where they are dropped after the load.
"""

from __future__ import annotations

import duckdb

from pipelines.sql import quote_identifier as _ident
from pipelines.sql import quote_literal as _literal

# Working tables live in the connection's temp catalog and are dropped after a load.
STAGE = "_load_stage"  # view: every record of every file read, as text
PARSED = "_load_parsed"  # view: the records of STAGE that are not malformed lines
MALFORMED = "_load_malformed"  # CSV lines that cannot be parsed: record -> line, reason
FILE_ORDER = "_load_file_order"  # every file of the table: rank (1 = oldest) -> path
FILES_READ = "_load_files"  # the files read: rank -> path
RECORD_PERIODS = "_load_periods"  # record -> period, and whether this load writes it
PROBLEMS = "_load_problems"  # one row per problem: (file, row, column(s), reason)
VALID = "_load_valid"  # typed records that passed checks 1-4
SUPERSEDED = "_load_superseded"  # good records replaced by a newer file's version


def drop_working_tables(con: duckdb.DuckDBPyConnection, ranks: list[int]) -> None:
    con.execute(f"drop view if exists {PARSED}")
    con.execute(f"drop view if exists {STAGE}")
    for name in (FILE_ORDER, FILES_READ, MALFORMED, RECORD_PERIODS, PROBLEMS, VALID, SUPERSEDED):
        con.execute(f"drop table if exists {name}")
    for rank in ranks:
        con.execute(f"drop table if exists _load_file_{rank}")


def in_periods(expression: str, periods: tuple[str, ...]) -> str:
    listed = ", ".join(_literal(period) for period in periods)
    return f"coalesce(list_contains([{listed}]::varchar[], {expression}), false)"


def column_list(columns: tuple[str, ...]) -> str:
    return ", ".join(columns)


def qualified(alias: str, columns: tuple[str, ...]) -> str:
    return ", ".join(f"{alias}.{_ident(name)}" for name in columns)
