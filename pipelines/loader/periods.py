"""Which period each extract file and each record belongs to: the file index.

Kept apart from reading and checking because it also serves without a load: the
landing sensor (pipelines/landing.py) and the run planner ask which periods the landing
folder holds and which changed, and a period load asks which files to read.

Periods. Every table but customers and products has a period, a calendar month
(`Table.period_source` in contract.py): the month of invoice_date, return_date,
payment_date, contact_ts, activity_date or override_date; the `period` text of
cost_pools and gl_summary; for invoice_lines and shipments the period of their
invoice in raw.invoices (the P&L puts freight in the invoice's month, not the ship
date's). It is stored as `_period` in raw.<table> and `period` in the quarantine. A
record whose period cannot be determined (missing or invalid date, a period text that
is not YYYY-MM, an invoice_id not in raw.invoices) belongs to its file's home period:
the most common period among the file's placeable records (ties: the latest), or, for
a file without any, the latest period of any of the table's files. So it is still
quarantined exactly once.

The file index. `raw._extract_file_periods` holds, for each extract file (path, size,
modification time), its record count per period (null: undeterminable). A file is
scanned once when it is new or changed: one read of its period column, no validation
(the new Parquet files that share a schema in one read, as reading.py reads them).
The index chooses the files of a period load and gives the home periods. An invoice
line or shipment is indexed under the period of every version of its invoice in the
landing folder's invoices files (counted under the newest), so the index needs no
warehouse and never misses a file; these entries are re-scanned when the invoices files
change. `landing_files` builds the same index in memory, without a warehouse: a sensor
compares two of them with `changed_periods_between`, never opening the DuckDB file that
a running load holds. With a warehouse, `landing_periods` lists the periods of the files
and `changed_periods_since_load` the periods of files new, changed or gone since the
table's last load (every load brings its table's index entries up to date).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.contract import PERIOD_PATTERN, PERIOD_TABLES, TABLES, Table
from pipelines.loader.checks import is_valid_sql
from pipelines.loader.reading import (
    REJECTS,
    ExtractError,
    ExtractFile,
    contract_table,
    drop_rejects,
    extract_files,
    first_error_line,
    has_rejects,
    is_csv,
    parquet_group_select,
    parquet_read_groups,
    text_select,
)
from pipelines.loader.working_tables import FILES_READ, RECORD_PERIODS, STAGE, in_periods
from pipelines.loader.writing import ensure_quarantine_table
from pipelines.sql import quote_identifier as _ident
from pipelines.sql import quote_literal as _literal

FILE_INDEX = "raw._extract_file_periods"
_VIA_PERIODS = "_index_via_periods"  # parent key -> the periods of its versions


@dataclass(frozen=True)
class IndexedFile:
    """An extract file and the periods the loader puts its records in (home period included)."""

    table: str
    path: str
    size_bytes: int
    modified_ns: int
    periods: frozenset[str]


def landing_files(
    landing_dir: Path, tables: Sequence[str] = PERIOD_TABLES, *, index_file: Path | None = None
) -> dict[str, list[IndexedFile]]:
    """The files of each table with a period and the periods they hold, without a warehouse.

    Reads the files with a DuckDB of its own, so a sensor can call it while a load holds
    the warehouse. `index_file`, a DuckDB file that is never the warehouse, keeps the
    index between scans, so that only new and changed files are read again; while
    another process holds it, the scan reads every file in memory instead. Tables
    without a folder are left out.
    """
    landing = Path(landing_dir)
    try:
        con = duckdb.connect(str(index_file) if index_file else ":memory:")
    except duckdb.IOException:
        con = duckdb.connect(":memory:")
    with con:
        index = "_scanned_file_periods"
        return {
            name: _refresh_and_list(con, landing, TABLES[name], index)
            for name in _period_tables(tables)
            if (landing / name).is_dir()
        }


def changed_periods_between(
    before: dict[str, list[IndexedFile]], after: dict[str, list[IndexedFile]]
) -> dict[str, set[str]]:
    """Per table, the periods that new, changed or removed files touch, or that moved.

    A changed file touches the periods it held and the ones it holds now; an unchanged
    invoice line file whose invoices moved touches only the periods that changed.
    """
    changed: dict[str, set[str]] = {}
    for table in before.keys() | after.keys():
        old = {file.path: file for file in before.get(table, [])}
        new = {file.path: file for file in after.get(table, [])}
        periods: set[str] = set()
        for path in old.keys() | new.keys():
            was, now = old.get(path), new.get(path)
            if was is None or now is None or _stat(was) != _stat(now):
                periods |= (was.periods if was else frozenset()) | (now.periods if now else set())
            else:
                periods |= was.periods ^ now.periods
        if periods:
            changed[table] = periods
    return changed


def landing_periods(
    con: duckdb.DuckDBPyConnection, landing_dir: Path, tables: Sequence[str] = PERIOD_TABLES
) -> dict[str, set[str]]:
    """Per table with a period, the periods its files hold; updates the warehouse index."""
    landing = Path(landing_dir)
    ensure_quarantine_table(con)
    return {
        name: {period for file in files for period in file.periods}
        for name in _period_tables(tables)
        if (landing / name).is_dir()
        for files in [_refresh_and_list(con, landing, TABLES[name], FILE_INDEX)]
    }


def changed_periods_since_load(
    con: duckdb.DuckDBPyConnection, landing_dir: Path
) -> dict[str, set[str]]:
    """Per table, the periods of files that are new, changed or removed since last indexed.

    Every load of a table indexes its files, so this answers "what changed since the
    table was last loaded?". It leaves the warehouse index as it is: it scans only the
    new and changed files, into a temporary copy.
    """
    landing = Path(landing_dir)
    ensure_quarantine_table(con)
    _ensure_file_index(con, FILE_INDEX)
    copy = "_changed_file_periods"
    con.execute(f"create or replace temp table {copy} as select * from {FILE_INDEX}")
    try:
        before = {name: indexed_files(con, FILE_INDEX, name) for name in PERIOD_TABLES}
        after = {
            name: _refresh_and_list(con, landing, TABLES[name], copy)
            for name in PERIOD_TABLES
            if (landing / name).is_dir()
        }
        return changed_periods_between(before, after)
    finally:
        con.execute(f"drop table if exists {copy}")


def _stat(file: IndexedFile) -> tuple[int, int]:
    return file.size_bytes, file.modified_ns


def _period_tables(tables: Sequence[str]) -> list[str]:
    """The tables with a period, in loading order: invoices are indexed before their lines."""
    for name in tables:
        contract_table(name)
        if name not in PERIOD_TABLES:
            raise ValueError(f"{name} has no period: it is always loaded whole")
    return [name for name in PERIOD_TABLES if name in tables]


def _refresh_and_list(
    con: duckdb.DuckDBPyConnection, landing: Path, contract: Table, index: str
) -> list[IndexedFile]:
    files = extract_files(landing / contract.name)
    refresh_file_index(con, landing, contract, index, files)
    return indexed_files(con, index, contract.name)


def indexed_files(con: duckdb.DuckDBPyConnection, index: str, table: str) -> list[IndexedFile]:
    rows = con.execute(
        f"""
        select f.path, f.size_bytes, f.modified_ns,
            coalesce(list(p.period) filter (where p.period is not null), [])
        from (select distinct path, size_bytes, modified_ns from {index}
              where table_name = {_literal(table)}) as f
        left join ({_file_periods_sql(index, table)}) as p using (path)
        group by all
        order by f.modified_ns, f.path
        """
    ).fetchall()
    return [
        IndexedFile(table, path, size, modified, frozenset(periods))
        for path, size, modified, periods in rows
    ]


def _ensure_file_index(con: duckdb.DuckDBPyConnection, index: str) -> None:
    con.execute(
        f"""
        create table if not exists {index} (
            table_name varchar not null,
            path varchar not null,
            size_bytes bigint not null,
            modified_ns bigint not null,
            -- for invoice lines and shipments: the invoices files they were mapped through
            via_files varchar not null,
            period varchar,  -- null: records whose period cannot be determined
            records bigint not null
        )
        """
    )


def refresh_file_index(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    contract: Table,
    index: str,
    files: list[ExtractFile],
) -> None:
    """Index the table's new and changed files; forget the entries of files gone or changed."""
    _ensure_file_index(con, index)
    via_files = _via_files(landing, contract)
    current = {(str(f.path), f.size_bytes, f.modified_ns, via_files): f for f in files}
    indexed = set(
        con.execute(
            f"select distinct path, size_bytes, modified_ns, via_files from {index} "
            "where table_name = ?",
            [contract.name],
        ).fetchall()
    )
    for path, *_ in indexed - current.keys():
        con.execute(f"delete from {index} where table_name = ? and path = ?", [contract.name, path])
    new = [file for entry, file in current.items() if entry not in indexed]
    if not new:
        return
    if contract.period_source.via is not None:
        _map_parent_periods(con, landing, TABLES[contract.period_source.via])
    try:
        alone = _index_parquet_groups(con, contract, new, via_files, index)
        for file in new:
            if file.path not in alone:
                continue
            try:
                _index_file(con, contract, file, via_files, index)
            except ExtractError:
                # Left out of the index, the file is read by every load of its table,
                # which fails with this error: no period loads without it.
                continue
    finally:
        con.execute(f"drop table if exists {_VIA_PERIODS}")


def _via_files(landing: Path, contract: Table) -> str:
    """The parent files a child's periods come from, as (name, size, mtime); '' without one."""
    via = contract.period_source.via
    if via is None or not (landing / via).is_dir():
        return ""
    return ";".join(
        f"{f.path.name}:{f.size_bytes}:{f.modified_ns}" for f in extract_files(landing / via)
    )


def _map_parent_periods(con: duckdb.DuckDBPyConnection, landing: Path, parent: Table) -> None:
    """Parent key -> the period of each of its versions in the landing folder.

    Every version, not only the newest: the one raw.<parent> keeps may be an older
    one (the newest is bad), and an index that misses it would miss a file.
    """
    key = _ident(parent.key[0])
    files = extract_files(landing / parent.name) if (landing / parent.name).is_dir() else []
    columns = [parent.key[0], parent.period_source.column]
    ranks = [str(file.path) for file in files]  # list_position(ranks, path): the file's rank
    groups, alone = parquet_read_groups(con, [file.path for file in files], columns)
    versions, parameters = [], []
    for group in groups:
        versions.append(
            f"select {key}, {_own_period_sql(parent)} as period, "
            f"list_position(?::varchar[], _path) as _file_rank "
            f"from ({parquet_group_select(columns, row_numbers=False)})"
        )
        parameters += [ranks, [str(path) for path in group]]
    for path in alone:
        try:
            source = text_select(con, path, columns, store_rejects=False)
        except ExtractError:
            continue  # the parent's own load fails on it
        versions.append(
            f"select {key}, {_own_period_sql(parent)} as period, "
            f"{ranks.index(str(path)) + 1} as _file_rank from ({source})"
        )
        parameters.append(str(path))
    if not versions:
        versions = ["select null::varchar as key, null::varchar as period, 0 as _file_rank"]
    con.execute(
        f"""
        create or replace temp table {_VIA_PERIODS} as
        with versions as (
            select * from ({" union all ".join(versions)}) as v(key, period, _file_rank)
            where key is not null and period is not null
        ),
        newest as (select key, max(_file_rank) as newest_rank from versions group by key)
        select key, period, bool_or(_file_rank = newest_rank) as is_newest
        from versions join newest using (key)
        group by key, period
        """,
        parameters,
    )


def _index_parquet_groups(
    con: duckdb.DuckDBPyConnection,
    contract: Table,
    files: list[ExtractFile],
    via_files: str,
    index: str,
) -> set[Path]:
    """Index the Parquet files that one query can read, a group at a time (reading.py);
    returns the files to index alone. A group whose read fails is left to them."""
    column = contract.period_source.column
    groups, alone = parquet_read_groups(con, [file.path for file in files], [column])
    stat = {file.path: file for file in files}
    source = parquet_group_select([column], row_numbers=False)
    for group in groups:
        paths = [str(path) for path in group]
        try:
            con.execute(
                f"""
                insert into {index}
                select ?, f.path, f.size_bytes, f.modified_ns, ?, counts.period, counts.records
                from (
                    select _path as path, period, sum(counted) as records
                    from ({_per_period_sql(contract, source, "_path")}
                          union all select unnest(?::varchar[]), null, 0)
                    group by all
                ) as counts
                join (
                    select unnest(?::varchar[]) as path, unnest(?::bigint[]) as size_bytes,
                        unnest(?::bigint[]) as modified_ns
                ) as f using (path)
                """,
                [
                    contract.name,
                    via_files,
                    paths,  # the read
                    paths,  # a row of no records per file, as a file read alone has
                    paths,  # with each file's size and modification time
                    [stat[path].size_bytes for path in group],
                    [stat[path].modified_ns for path in group],
                ],
            )
        except duckdb.Error:
            alone += group
    return set(alone)


def _per_period_sql(contract: Table, source: str, *carried: str) -> str:
    """(period, counted) of each record of `source`, and its `carried` columns: its own
    period, or, for an invoice line or shipment, that of each version of its invoice
    (counted under the newest version only)."""
    kept = "".join(f"r.{name}, " for name in carried)
    if contract.period_source.via is None:
        return (
            f"select {kept}{_own_period_sql(contract)} as period, 1 as counted from ({source}) as r"
        )
    foreign_key = _ident(contract.period_source.column)
    return f"""
        select {kept}parent.period, coalesce(parent.is_newest, true)::int as counted
        from ({source}) as r
        left join {_VIA_PERIODS} as parent on parent.key = r.{foreign_key}
    """


def _index_file(
    con: duckdb.DuckDBPyConnection, contract: Table, file: ExtractFile, via_files: str, index: str
) -> None:
    """One read of the file's period column: records per period, and the undeterminable
    (among them the CSV lines that cannot be parsed)."""
    source = text_select(con, file.path, [contract.period_source.column], store_rejects=True)
    per_period = _per_period_sql(contract, source)
    csv_file = is_csv(file.path)
    if csv_file:
        drop_rejects(con)
    try:
        con.execute(
            f"""
            create or replace temp table _index_counts as
            select period, sum(counted) as records
            from ({per_period} union all select null, 0) as records
            group by period
            """,
            [str(file.path)],
        )
    except duckdb.Error as error:
        raise ExtractError(f"cannot read {file.path}: {first_error_line(error)}") from error
    malformed = 0
    if csv_file:
        if has_rejects(con):
            (malformed,) = con.execute(f"select count(distinct line) from {REJECTS}").fetchone()
        drop_rejects(con)
    con.execute(
        f"""
        insert into {index}
        select ?, ?, ?, ?, ?, period, records + if(period is null, ?, 0) from _index_counts
        """,
        [contract.name, str(file.path), file.size_bytes, file.modified_ns, via_files, malformed],
    )
    con.execute("drop table _index_counts")


def _home_periods_sql(index: str, table: str) -> str:
    """path -> the period of the records of the file whose own period is undeterminable."""
    return f"""
        with counts as (
            select path, period, records from {index} where table_name = {_literal(table)}
        )
        select path, coalesce(
            first(period order by records desc, period desc)
                filter (where period is not null and records > 0),
            (select max(period) from counts where records > 0)
        ) as home_period
        from counts
        group by path
    """


def _file_periods_sql(index: str, table: str) -> str:
    """(path, period) for every period a file's records go to."""
    return f"""
        select path, period from {index}
        where table_name = {_literal(table)} and period is not null
        union
        select path, home_period from ({_home_periods_sql(index, table)}) as home
        where home_period is not null and exists (
            select 1 from {index} as unplaced
            where unplaced.table_name = {_literal(table)} and unplaced.path = home.path
              and unplaced.period is null and unplaced.records > 0
        )
    """


def paths_holding(
    con: duckdb.DuckDBPyConnection, index: str, contract: Table, periods: tuple[str, ...]
) -> set[str]:
    rows = con.execute(
        f"select distinct path from ({_file_periods_sql(index, contract.name)}) "
        f"where {in_periods('period', periods)}"
    ).fetchall()
    return {path for (path,) in rows}


def _own_period_sql(contract: Table) -> str:
    """A record's period from its own text values; null when missing or invalid."""
    column = contract.column(contract.period_source.column)
    name = _ident(column.name)
    if column.type == "text":
        return f"case when regexp_full_match({name}, {_literal(PERIOD_PATTERN)}) then {name} end"
    return (
        f"case when coalesce({is_valid_sql(column)}, false) "
        f"then strftime(try_cast({name} as {column.warehouse_type}), '%Y-%m') end"
    )


def assign_periods(
    con: duckdb.DuckDBPyConnection, contract: Table, periods: tuple[str, ...] | None
) -> None:
    """Every record read -> its period (own, parent's, or its file's home period).

    Records of the other periods in the files read are checked too (a duplicate key
    may span periods) but not written: `_in_scope` is false for them.
    """
    source = contract.period_source
    in_scope = "true" if periods is None else in_periods("_period", periods)
    if source is None:
        con.execute(
            f"create or replace temp table {RECORD_PERIODS} as "
            f"select _file_rank, _source_row, null::varchar as _period, true as _in_scope "
            f"from {STAGE}"
        )
        return
    if source.via is None:
        own, parent_join = _own_period_sql(contract), ""
    else:
        parent = TABLES[source.via]
        own = "parent._period"
        parent_join = (
            f"left join raw.{_ident(parent.name)} as parent "
            f"on parent.{_ident(parent.key[0])} = s.{_ident(source.column)}"
        )
    con.execute(
        f"""
        create or replace temp table {RECORD_PERIODS} as
        select *, {in_scope} as _in_scope
        from (
            select s._file_rank, s._source_row, coalesce({own}, home.home_period) as _period
            from {STAGE} as s
            join {FILES_READ} as f using (_file_rank)
            left join ({_home_periods_sql(FILE_INDEX, contract.name)}) as home using (path)
            {parent_join}
        )
        """
    )
