"""Newest file wins, then writing: the kept records to `raw.<table>`, every problem to
`raw.quarantine`, in one transaction.

Kept apart from the checks because it is the only part that changes the warehouse: a
failed read or check leaves raw.<table> and the quarantine as they were. Among the
records without a problem, the version of a key from the newest file (modification
time, then name) is kept and older versions are superseded; if the newest version is
bad, it is quarantined and the latest good version is kept.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from pipelines.contract import Table
from pipelines.loader.checks import has_no_problem, is_kept
from pipelines.loader.working_tables import (
    FILE_ORDER,
    FILES_READ,
    PROBLEMS,
    RECORD_PERIODS,
    STAGE,
    SUPERSEDED,
    VALID,
    in_periods,
    qualified,
)
from pipelines.sql import quote_identifier as _ident
from pipelines.sql import quote_literal as _literal


def ensure_quarantine_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute(
        """
        create table if not exists raw.quarantine (
            table_name varchar not null,
            source_file varchar not null,
            source_row bigint not null,
            column_name varchar not null,
            bad_value varchar,
            reason varchar not null,
            record_json json not null,
            loaded_at timestamp not null,  -- UTC
            period varchar  -- YYYY-MM; null for customers and products
        )
        """
    )
    # Warehouses loaded before period mode existed.
    con.execute("alter table raw.quarantine add column if not exists period varchar")


def find_superseded_versions(
    con: duckdb.DuckDBPyConnection, contract: Table, periods: tuple[str, ...] | None
) -> None:
    """Mark the good versions of a key that a newer file's good version replaces.

    A period load also weighs the versions kept in raw.<table> for the other periods,
    with the rank of their file: a corrected file may have moved a key to another month.
    A group-by over the keys, not a window: 3.7 s instead of 7 s on 10M lines.
    """
    key = ", ".join(_ident(name) for name in contract.key)
    kept_elsewhere = ""
    if periods is not None:
        kept_elsewhere = f"""
            union all
            select {qualified("r", contract.key)}, coalesce(o._file_rank, 0)
            from raw.{_ident(contract.name)} as r
            join (select distinct {key} from accepted) as read_now using ({key})
            left join {FILE_ORDER} as o on o.path = r._source_file
            where not {in_periods("r._period", periods)}
        """
    con.execute(
        f"""
        create or replace temp table {SUPERSEDED} as
        with accepted as (
            select _file_rank, _source_row, {key} from {VALID} as v where {has_no_problem("v")}
        ),
        versions as (
            select {key}, _file_rank from accepted
            {kept_elsewhere}
        ),
        newest as (
            select {key}, max(_file_rank) as newest_rank
            from versions
            group by all
            having count(*) > 1
        )
        select accepted._file_rank, accepted._source_row
        from accepted
        join newest using ({key})
        where accepted._file_rank < newest.newest_rank
        """
    )


def publish(
    con: duckdb.DuckDBPyConnection, contract: Table, periods: tuple[str, ...] | None
) -> None:
    """Replace raw.<table> and the table's quarantine rows (or their periods) together."""
    con.execute("begin transaction")
    try:
        if periods is None:
            _write_raw_table(con, contract)
        else:
            _write_raw_periods(con, contract, periods)
        _write_quarantine(con, contract, periods)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _raw_columns(contract: Table, alias: str) -> str:
    columns = [f"{alias}.{_ident(name)}" for name in contract.column_names]
    if contract.period_source is not None:
        columns.append("p._period")
    return ", ".join([*columns, "f.path as _source_file", f"{alias}._source_row"])


def _write_raw_table(con: duckdb.DuckDBPyConnection, contract: Table) -> None:
    con.execute(
        f"""
        create or replace table raw.{_ident(contract.name)} as
        select {_raw_columns(contract, "k")}
        from {VALID} as k
        join {FILES_READ} as f using (_file_rank)
        join {RECORD_PERIODS} as p using (_file_rank, _source_row)
        where {is_kept("k")}
        order by k._file_rank, k._source_row
        """
    )


def _write_raw_periods(
    con: duckdb.DuckDBPyConnection, contract: Table, periods: tuple[str, ...]
) -> None:
    """Delete the periods' rows, and any row of a record read now; insert what is kept.

    A record read now may sit in another period from an earlier load (its invoice
    was not loaded then); it moves. An older version of a kept key in another period
    is deleted: the newest file wins across periods too.
    """
    table = f"raw.{_ident(contract.name)}"
    key = ", ".join(_ident(name) for name in contract.key)
    con.execute(
        f"""
        delete from {table} where rowid in (
            select r.rowid from {table} as r
            where {in_periods("r._period", periods)}
            union all
            select r.rowid from {table} as r
            join {FILES_READ} as f on f.path = r._source_file
            join {RECORD_PERIODS} as p
                on p._file_rank = f._file_rank and p._source_row = r._source_row
            where p._in_scope
        )
        """
    )
    con.execute(
        f"""
        delete from {table} where rowid in (
            select r.rowid from {table} as r
            join (
                select {key}, k._file_rank
                from {VALID} as k
                join {RECORD_PERIODS} as p using (_file_rank, _source_row)
                where p._in_scope and {is_kept("k")}
            ) as kept using ({key})
            left join {FILE_ORDER} as o on o.path = r._source_file
            where coalesce(o._file_rank, 0) < kept._file_rank
        )
        """
    )
    con.execute(
        f"""
        insert into {table}
        select {_raw_columns(contract, "k")}
        from {VALID} as k
        join {FILES_READ} as f using (_file_rank)
        join {RECORD_PERIODS} as p using (_file_rank, _source_row)
        where p._in_scope and {is_kept("k")}
        order by k._file_rank, k._source_row
        """
    )


def _write_quarantine(
    con: duckdb.DuckDBPyConnection, contract: Table, periods: tuple[str, ...] | None
) -> None:
    """One row per problem, with the whole record as text so nothing is lost.

    bad_value is the original text of the blamed column (or columns, comma-separated).
    """
    record = ", ".join(f"{_literal(name)}, s.{_ident(name)}" for name in contract.column_names)
    if periods is None:
        con.execute("delete from raw.quarantine where table_name = ?", [contract.name])
    else:
        con.execute(
            f"""
            delete from raw.quarantine where rowid in (
                select q.rowid from raw.quarantine as q
                where q.table_name = $table and {in_periods("q.period", periods)}
                union all
                select q.rowid from raw.quarantine as q
                join {FILES_READ} as f on f.path = q.source_file
                join {RECORD_PERIODS} as p
                    on p._file_rank = f._file_rank and p._source_row = q.source_row
                where q.table_name = $table and p._in_scope
            )
            """,
            {"table": contract.name},
        )
    con.execute(
        f"""
        insert into raw.quarantine (
            table_name, source_file, source_row, column_name, bad_value, reason, record_json,
            loaded_at, period
        )
        with problem as (
            select pr.*, coalesce(s._malformed, json_object({record})) as record_json, p._period
            from {PROBLEMS} as pr
            join {STAGE} as s using (_file_rank, _source_row)
            join {RECORD_PERIODS} as p using (_file_rank, _source_row)
            where p._in_scope
        )
        select
            $table, f.path, p._source_row, p.column_name,
            array_to_string(
                list_transform(string_split(p.column_name, ', '), lambda c: p.record_json ->> c),
                ', '
            ),
            p.reason, p.record_json, $loaded_at, p._period
        from problem as p
        join {FILES_READ} as f using (_file_rank)
        order by p._file_rank, p._source_row, p.column_name, p.reason
        """,
        {"table": contract.name, "loaded_at": datetime.now(UTC).replace(tzinfo=None)},
    )
