"""Load one table of the ERP extract contract from a landing folder into DuckDB.

Reads `<landing>/<table>/*.csv` and `*.parquet` (../shared/CONTRACT.md), checks every
record against the contract (pipelines/contract.py) and writes the good records to
`raw.<table>` and every problem to `raw.quarantine`. Each record read ends up in
exactly one place: `raw.<table>`, the quarantine, or the count of superseded rows
(an older version of a key that a newer file replaced). Nothing is dropped or
altered silently.

Every value is read as text, so CSV and Parquet share one validation path, and all
row-level work is set-based SQL inside DuckDB: no record is pulled into Python
(10 million invoice lines load in 13-25 s from CSV or Parquet on 2 cores, ~5 GB RAM).

Row numbers: `_source_row` in `raw.<table>` and `source_row` in the quarantine are the
1-based record number within the file. In a CSV file the line number is the record
number + 1 (the header), unless an earlier field holds a quoted line break or an earlier
line is blank (DuckDB skips blank lines; a line of bare commas is a record).

Column names must match the contract exactly (lower-case); extra columns are ignored.
A CSV file's header line names its columns. A line that cannot be parsed (a field too
many or too few, an unbalanced quote) is a record with one problem, `csv_line`: its
record_json holds the text and the line number in the file. A file that is not UTF-8,
or an unreadable Parquet file, fails the table (ExtractError).

Checks, in this order:
 0. CSV line that cannot be parsed
 1. missing required value      5. duplicate key within one file
 2. wrong type, a NUL byte      6. foreign key that points nowhere
 3. value outside the domain    7. returns: more returned than the line sold
 4. row rules of the contract   8. invoices: a second currency
Checks 1-4 judge each record on its own and report every problem they find. Checks
5, 6 and 8 run on the records that passed 1-4 and report independently (a record with
a wrong type is not also reported as a duplicate, but a duplicate can also be a
dangling foreign key). The company currency, unless given, is the most frequent one
among the records that passed 1-6. Then the newest file wins: among the records
without a problem, the version of a key from the newest file (modification time,
then name) is kept and older versions are superseded; if the newest version is bad,
it is quarantined and the latest good version is kept. Check 7 runs last, on the kept
returns only, because an older version of a return must not count twice; a kept
return that fails it goes to quarantine and its older versions stay superseded.

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

`load_table(..., periods=[...])` loads only those periods: it deletes the table's raw
and quarantine rows of those periods and writes the records of those periods, leaving
every other row alone. It reads only the files that hold records of those periods, and
reads them whole, so that checks 5 and 8 see the same records as a full load. What a
full load learns from the other files it takes from the warehouse instead: a key's
version in raw.<table> from a newer file supersedes the version read now (and an older
one there is deleted when the version read now is published), and the accepted returns
of other periods count towards check 7. A period load therefore gives exactly the rows
of a full load when the other periods in the warehouse are up to date with the landing
folder (after a full load, or loading every period in order), with two limits:
 - Check 8 without `company_currency` takes the most frequent currency of the files
   read, not of every file; pass `company_currency` to make it exact.
 - Foreign keys are judged against the parent rows in the warehouse when the record's
   period is loaded. If a newer file moved an invoice to a later month (a corrected
   invoice_date), a payment, override or return of an earlier month that points to it
   is dangling until that later month of invoices is loaded; it is quarantined if its
   own month loads first, and a reload of its month clears that. Loading each table's
   periods in LOAD_ORDER (all periods of invoices before their payments) avoids it.
   Invoice lines and shipments follow their invoice, so they move with it instead.

The file index. `raw._extract_file_periods` holds, for each extract file (path, size,
modification time), its record count per period (null: undeterminable). A file is
scanned once when it is new or changed: one read of its period column, no validation.
The index chooses the files of a period load and gives the home periods. An invoice
line or shipment is indexed under the period of every version of its invoice in the
landing folder's invoices files (counted under the newest), so the index needs no
warehouse and never misses a file; these entries are re-scanned when the invoices files
change. `scan_landing_periods` builds the same index in memory, without a warehouse:
a sensor compares two scans with `periods_changed`, never opening the DuckDB file that
a running load holds. With a warehouse, `landing_periods` lists the periods of the files
and `changed_periods` the periods of files new, changed or gone since the table's last
load (every load brings its table's index entries up to date).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from pipelines.contract import (
    PERIOD_PATTERN,
    PERIOD_TABLES,
    TABLES,
    Column,
    ForeignKey,
    Table,
)
from pipelines.sql import quote_identifier as _ident
from pipelines.sql import quote_literal as _literal

EXTRACT_SUFFIXES = (".csv", ".parquet")

# RFC 4180 as the contract states it. The columns come from the header line, so
# DuckDB's sniffer never runs: it refuses a file with a ragged line among its first
# 20,480 lines instead of rejecting that line.
_CSV_OPTIONS = "header=true, auto_detect=false, delim=',', quote='\"', escape='\"'"
_REJECTS = "_load_rejects"  # DuckDB's rejects table: the CSV lines a read could not parse
_LINE_COUNT_BLOCK = 16 * 2**20

FILE_INDEX = "raw._extract_file_periods"

# Working tables live in the connection's temp catalog and are dropped after a load.
_STAGE = "_load_stage"  # view: every record of every file read, as text
_PARSED = "_load_parsed"  # view: the records of _STAGE that are not malformed lines
_MALFORMED = "_load_malformed"  # CSV lines that cannot be parsed: record -> line, reason
_ORDER = "_load_file_order"  # every file of the table: rank (1 = oldest) -> path
_FILES = "_load_files"  # the files read: rank -> path
_PERIODS = "_load_periods"  # record -> period, and whether this load writes it
_PROBLEMS = "_load_problems"  # one row per problem: (file, row, column(s), reason)
_VALID = "_load_valid"  # typed records that passed checks 1-4
_SUPERSEDED = "_load_superseded"  # good records replaced by a newer file's version
_VIA_PERIODS = "_index_via_periods"  # parent key -> the periods of its versions

# A date may carry a midnight time: pandas writes dates to Parquet as timestamps.
_ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}([ T]00:00(:00(\.0+)?)?)?"
# No time zone offset: DuckDB would drop it silently when casting to timestamp.
_ISO_TIMESTAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?"

_EXPECTED = {
    "integer": "integer without a fraction",
    "decimal": "decimal(18, 6): at most 12 digits before and 6 after the point",
    "date": "ISO-8601 date YYYY-MM-DD",
    "timestamp": "ISO-8601 timestamp YYYY-MM-DD HH:MM:SS without time zone",
    "boolean": "boolean (true/false, t/f, yes/no, y/n, 1/0)",
}


class ExtractError(Exception):
    """An extract cannot be loaded at all: missing folder, unreadable file, missing column."""


class ParentNotLoadedError(RuntimeError):
    """A foreign key's parent table is not in the warehouse yet (see LOAD_ORDER)."""


@dataclass(frozen=True)
class LoadResult:
    table: str
    files: tuple[str, ...]  # the files read
    rows_read: int  # records of the loaded periods in those files
    rows_loaded: int
    rows_quarantined: int  # distinct bad records
    quarantine_reasons: dict[str, int]  # reason -> records
    superseded_rows: int  # older versions of a key replaced by a newer file (not errors)
    periods: tuple[str, ...] | None  # the periods loaded; None: the whole table


@dataclass(frozen=True)
class IndexedFile:
    """An extract file and the periods the loader puts its records in (home period included)."""

    table: str
    path: str
    size_bytes: int
    modified_ns: int
    periods: frozenset[str]


@dataclass(frozen=True)
class _ExtractFile:
    path: Path
    size_bytes: int
    modified_ns: int


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


def load_table(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    table: str,
    *,
    company_currency: str | None = None,
    periods: Sequence[str] | None = None,
) -> LoadResult:
    """Load `<landing_dir>/<table>/` into raw.<table>, replacing it and its quarantine rows.

    With `periods` ('YYYY-MM'), only the records of those periods are read and
    replaced, in raw.<table> and in the quarantine (see the module docstring).
    `company_currency` applies to invoices only; without it the company currency is
    the most frequent one among the valid invoices (ties: alphabetical).
    """
    contract = _contract_table(table)
    scope = _checked_periods(contract, periods)
    landing = Path(landing_dir)
    files = _extract_files(landing / table)
    _require_parents_loaded(con, contract)
    ensure_quarantine_table(con)
    if contract.period_source is not None:
        _refresh_file_index(con, landing, contract, FILE_INDEX, files)
    ranked = list(enumerate(files, start=1))
    if scope is not None:
        _require_period_column(con, contract)
        holding = _paths_holding(con, FILE_INDEX, contract, scope)
        indexed = {file.path for file in _indexed_files(con, FILE_INDEX, contract.name)}
        ranked = [
            (rank, file)
            for rank, file in ranked
            if str(file.path) in holding or str(file.path) not in indexed
        ]
    try:
        _stage_files(con, contract, files, ranked)
        _assign_periods(con, contract, scope)
        _find_record_problems(con, contract)
        _keep_valid_records(con, contract)
        _find_duplicate_keys(con, contract)
        _find_dangling_foreign_keys(con, contract)
        if contract.name == "invoices":
            _find_second_currencies(con, company_currency)
        _find_superseded_versions(con, contract, scope)
        if contract.name == "returns":
            _find_over_returns(con, scope)
        _publish(con, contract, scope)
        return _result(con, contract, ranked, scope)
    finally:
        _drop_working_tables(con, [rank for rank, _ in ranked])


def quarantine_summary(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int]]:
    """(table, reason, records) over the whole quarantine, for the run report."""
    ensure_quarantine_table(con)
    return con.execute(
        """
        select table_name, reason, count(distinct (source_file, source_row)) as records
        from raw.quarantine
        group by table_name, reason
        order by table_name, records desc, reason
        """
    ).fetchall()


# --- periods of the landing folder ----------------------------------------------------


def scan_landing_periods(
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


def periods_changed(
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


def changed_periods(con: duckdb.DuckDBPyConnection, landing_dir: Path) -> dict[str, set[str]]:
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
        before = {name: _indexed_files(con, FILE_INDEX, name) for name in PERIOD_TABLES}
        after = {
            name: _refresh_and_list(con, landing, TABLES[name], copy)
            for name in PERIOD_TABLES
            if (landing / name).is_dir()
        }
        return periods_changed(before, after)
    finally:
        con.execute(f"drop table if exists {copy}")


def _stat(file: IndexedFile) -> tuple[int, int]:
    return file.size_bytes, file.modified_ns


def _period_tables(tables: Sequence[str]) -> list[str]:
    """The tables with a period, in loading order: invoices are indexed before their lines."""
    for name in tables:
        _contract_table(name)
        if name not in PERIOD_TABLES:
            raise ValueError(f"{name} has no period: it is always loaded whole")
    return [name for name in PERIOD_TABLES if name in tables]


def _refresh_and_list(
    con: duckdb.DuckDBPyConnection, landing: Path, contract: Table, index: str
) -> list[IndexedFile]:
    files = _extract_files(landing / contract.name)
    _refresh_file_index(con, landing, contract, index, files)
    return _indexed_files(con, index, contract.name)


def _indexed_files(con: duckdb.DuckDBPyConnection, index: str, table: str) -> list[IndexedFile]:
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


# --- the file index: records per period of each file --------------------------------


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


def _refresh_file_index(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    contract: Table,
    index: str,
    files: list[_ExtractFile],
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
        for file in new:
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
        f"{f.path.name}:{f.size_bytes}:{f.modified_ns}" for f in _extract_files(landing / via)
    )


def _map_parent_periods(con: duckdb.DuckDBPyConnection, landing: Path, parent: Table) -> None:
    """Parent key -> the period of each of its versions in the landing folder.

    Every version, not only the newest: the one raw.<parent> keeps may be an older
    one (the newest is bad), and an index that misses it would miss a file.
    """
    key = _ident(parent.key[0])
    files = _extract_files(landing / parent.name) if (landing / parent.name).is_dir() else []
    versions, paths = [], []
    for rank, file in enumerate(files, start=1):
        columns = [parent.key[0], parent.period_source.column]
        try:
            source = _text_select(con, file.path, columns, store_rejects=False)
        except ExtractError:
            continue  # the parent's own load fails on it
        versions.append(
            f"select {key}, {_own_period_sql(parent)} as period, {rank} as _file_rank "
            f"from ({source})"
        )
        paths.append(str(file.path))
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
        paths,
    )


def _index_file(
    con: duckdb.DuckDBPyConnection, contract: Table, file: _ExtractFile, via_files: str, index: str
) -> None:
    """One read of the file's period column: records per period, and the undeterminable
    (among them the CSV lines that cannot be parsed)."""
    source = _text_select(con, file.path, [contract.period_source.column], store_rejects=True)
    if contract.period_source.via is None:
        per_period = f"select {_own_period_sql(contract)} as period, 1 as counted from ({source})"
    else:
        foreign_key = _ident(contract.period_source.column)
        per_period = f"""
            select parent.period, coalesce(parent.is_newest, true)::int as counted
            from ({source}) as r
            left join {_VIA_PERIODS} as parent on parent.key = r.{foreign_key}
        """
    _drop_rejects(con)
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
        raise ExtractError(f"cannot read {file.path}: {_first_line(error)}") from error
    malformed = 0
    if _has_rejects(con):
        (malformed,) = con.execute(f"select count(distinct line) from {_REJECTS}").fetchone()
        _drop_rejects(con)
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


def _paths_holding(
    con: duckdb.DuckDBPyConnection, index: str, contract: Table, periods: tuple[str, ...]
) -> set[str]:
    rows = con.execute(
        f"select distinct path from ({_file_periods_sql(index, contract.name)}) "
        f"where {_in_periods('period', periods)}"
    ).fetchall()
    return {path for (path,) in rows}


def _own_period_sql(contract: Table) -> str:
    """A record's period from its own text values; null when missing or invalid."""
    column = contract.column(contract.period_source.column)
    name = _ident(column.name)
    if column.type == "text":
        return f"case when regexp_full_match({name}, {_literal(PERIOD_PATTERN)}) then {name} end"
    return (
        f"case when coalesce({_is_valid_sql(column)}, false) "
        f"then strftime(try_cast({name} as {column.warehouse_type}), '%Y-%m') end"
    )


def _in_periods(expression: str, periods: tuple[str, ...]) -> str:
    listed = ", ".join(_literal(period) for period in periods)
    return f"coalesce(list_contains([{listed}]::varchar[], {expression}), false)"


# --- files ------------------------------------------------------------------------


def _contract_table(table: str) -> Table:
    if table not in TABLES:
        raise ValueError(f"{table!r} is not a contract table; expected one of {sorted(TABLES)}")
    return TABLES[table]


def _checked_periods(contract: Table, periods: Sequence[str] | None) -> tuple[str, ...] | None:
    if periods is None:
        return None
    if contract.period_source is None:
        raise ValueError(f"{contract.name} has no period: load it without `periods`")
    if isinstance(periods, str):
        raise ValueError(f"periods must be a sequence of 'YYYY-MM' strings, not {periods!r}")
    bad = [period for period in periods if not re.fullmatch(PERIOD_PATTERN, str(period))]
    if bad:
        raise ValueError(f"periods must be written YYYY-MM, not {bad}")
    return tuple(sorted(set(periods)))


def _extract_files(folder: Path) -> list[_ExtractFile]:
    """The table's extract files, oldest first (modification time, then name)."""
    if not folder.is_dir():
        raise ExtractError(f"missing table folder {folder.absolute()}")
    files = []
    for path in folder.iterdir():
        if path.is_file() and path.suffix.lower() in EXTRACT_SUFFIXES:
            stat = path.stat()
            files.append(_ExtractFile(path.absolute(), stat.st_size, stat.st_mtime_ns))
    return sorted(files, key=lambda file: (file.modified_ns, file.path.name))


def _require_parents_loaded(con: duckdb.DuckDBPyConnection, contract: Table) -> None:
    """Foreign keys (and the returns check) are judged against the loaded parents."""
    for parent in dict.fromkeys(foreign_key.table for foreign_key in contract.foreign_keys):
        if not _columns_of(con, parent):
            raise ParentNotLoadedError(
                f"cannot check the foreign keys of {contract.name}: raw.{parent} is not loaded "
                "yet (load tables in contract.LOAD_ORDER)"
            )


def _require_period_column(con: duckdb.DuckDBPyConnection, contract: Table) -> None:
    """A period load adds to raw.<table>; create it empty on the first one."""
    columns = _columns_of(con, contract.name)
    if not columns:
        typed = ", ".join(f"{_ident(c.name)} {c.warehouse_type}" for c in contract.columns)
        con.execute(
            f"create table raw.{_ident(contract.name)} ({typed}, "
            "_period varchar, _source_file varchar, _source_row bigint)"
        )
    elif "_period" not in columns:
        raise ExtractError(
            f"raw.{contract.name} was loaded before periods existed: load it whole once"
        )


def _columns_of(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'raw' and table_name = ?",
        [table],
    ).fetchall()
    return {name for (name,) in rows}


def _first_line(error: Exception) -> str:
    """DuckDB's first line says what is wrong; the rest is the SQL text and tips."""
    return str(error).strip().splitlines()[0]


def _file_columns(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """The column names of the file: its CSV header line or its Parquet schema."""
    if path.suffix.lower() == ".csv":
        return _csv_header(path)
    try:
        schema = con.execute("describe select * from read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error as error:
        raise ExtractError(f"cannot read {path}: {_first_line(error)}") from error
    return [name for name, *_ in schema]


def _csv_header(path: Path) -> list[str]:
    """The header line, parsed by the contract's dialect: it names the columns of the read."""
    with path.open("rb") as file:
        first_line = file.readline()
    try:
        text = first_line.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ExtractError(
            f"cannot read {path}: line 1 is not UTF-8, the contract's encoding "
            f"(byte {error.start + 1}: {error.reason})"
        ) from error
    names = next(csv.reader([text]), [])
    if not names:
        raise ExtractError(f"cannot read {path}: the file is empty, it has no header line")
    return names


def _reader_sql(path: Path, names: list[str], *, store_rejects: bool) -> str:
    """A table function reading `path` (bound as the first parameter), every column as text.

    A CSV line that cannot be parsed goes to DuckDB's rejects tables (`store_rejects`)
    or is skipped; it never stops the read.
    """
    if path.suffix.lower() != ".csv":
        return "read_parquet(?)"
    columns = ", ".join(f"{_literal(name)}: 'varchar'" for name in names)
    errors = (
        f"store_rejects=true, rejects_table='{_REJECTS}', rejects_scan='{_REJECTS}_scan'"
        if store_rejects
        else "ignore_errors=true"
    )
    return f"read_csv(?, {_CSV_OPTIONS}, columns={{{columns}}}, {errors})"


def _text_select(
    con: duckdb.DuckDBPyConnection, path: Path, columns: list[str], *, store_rejects: bool
) -> str:
    """A select of `columns` of the file as text (empty = null); the path is its parameter."""
    names = _file_columns(con, path)
    missing = [name for name in columns if name not in names]
    if missing:
        raise ExtractError(f"{path}: missing contract column(s) {', '.join(missing)}")
    text = ", ".join(
        f"nullif(cast({_ident(name)} as varchar), '') as {_ident(name)}" for name in columns
    )
    return f"select {text} from {_reader_sql(path, names, store_rejects=store_rejects)}"


def _drop_rejects(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"drop table if exists {_REJECTS}")
    con.execute(f"drop table if exists {_REJECTS}_scan")


def _has_rejects(con: duckdb.DuckDBPyConnection) -> bool:
    """DuckDB creates the rejects tables on a read's first bad line only."""
    (count,) = con.execute(
        "select count(*) from duckdb_tables() where temporary and table_name = ?", [_REJECTS]
    ).fetchone()
    return count > 0


def _stage_files(
    con: duckdb.DuckDBPyConnection,
    contract: Table,
    files: list[_ExtractFile],
    ranked: list[tuple[int, _ExtractFile]],
) -> None:
    """Stage the `ranked` files; ranks number every file of the table, oldest first."""
    con.execute(f"create or replace temp table {_ORDER} (_file_rank integer, path varchar)")
    for rank, file in enumerate(files, start=1):
        con.execute(f"insert into {_ORDER} values (?, ?)", [rank, str(file.path)])
    con.execute(f"create or replace temp table {_FILES} (_file_rank integer, path varchar)")
    con.execute(
        f"""
        create or replace temp table {_MALFORMED} (
            _file_rank integer, _source_row bigint, line bigint, reason varchar, text varchar
        )
        """
    )
    renumbered = set()
    for rank, file in ranked:
        if _stage_file(con, contract, file.path, rank):
            renumbered.add(rank)
        con.execute(f"insert into {_FILES} values (?, ?)", [rank, str(file.path)])
    ranks = [rank for rank, _ in ranked]
    con.execute(
        f"create or replace temp view {_STAGE} as {_stage_select(contract, ranks, renumbered)}"
    )
    con.execute(
        f"create or replace temp view {_PARSED} as select * from {_STAGE} where _malformed is null"
    )


def _stage_file(con: duckdb.DuckDBPyConnection, contract: Table, path: Path, rank: int) -> bool:
    """Copy the contract columns of one file, as text, into `_load_file_<rank>`.

    Reading one file into its own table keeps the file's record order in the rowid,
    which numbers the records of both formats alike (read_csv has no file_row_number).
    The lines of a CSV file that cannot be parsed go to `_load_malformed`, and then the
    records after them are numbered anew (True): each rejected line took a number.
    """
    source = _text_select(con, path, contract.column_names, store_rejects=True)
    _drop_rejects(con)
    with _insertion_order_preserved(con):
        try:
            con.execute(f"create or replace temp table _load_file_{rank} as {source}", [str(path)])
        except duckdb.Error as error:
            raise ExtractError(f"cannot read {path}: {_first_line(error)}") from error
    if not _has_rejects(con):
        return False
    try:
        _collect_malformed_lines(con, path, rank)
    finally:
        _drop_rejects(con)
    _number_records_around_malformed_lines(con, rank)
    return True


# DuckDB keeps the first 10,000 characters of a line it rejects.
_REJECTED_TEXT_LIMIT = 10_000

# DuckDB's error types -> the reason in the quarantine. A line can have several (an
# unbalanced quote shifts the fields after it): the first one listed here is given.
_MALFORMED_REASONS = {
    "INVALID ENCODING": "not UTF-8",
    "UNQUOTED VALUE": "malformed CSV line: unbalanced quote",
    "TOO MANY COLUMNS": "malformed CSV line: more fields than the header",
    "MISSING COLUMNS": "malformed CSV line: fewer fields than the header",
}


def _collect_malformed_lines(con: duckdb.DuckDBPyConnection, path: Path, rank: int) -> None:
    """DuckDB's rejects of one file -> one row per bad line in `_load_malformed`, with the
    line number in the file; a line that is not UTF-8 fails the file instead.

    DuckDB's `line` counts records, not the line breaks inside quoted values; the line
    number here counts every line break before the line's first byte.
    """
    order = " ".join(
        f"when {_literal(error)} then {priority}"
        for priority, error in enumerate(_MALFORMED_REASONS)
    )
    con.execute(
        f"""
        create or replace temp table _load_rejected as
        select line - 1 as _source_row, line_byte_position as byte_position,
            arg_min(error_type, priority) as error_type,
            arg_min(error_message, priority) as error_message,
            ltrim(arg_min(csv_line, priority), chr(13) || chr(10)) as text
        from (select *, case error_type {order} else {len(_MALFORMED_REASONS)} end as priority
              from {_REJECTS})
        group by line, line_byte_position
        """
    )
    try:
        offsets = con.execute(
            "select byte_position from _load_rejected order by byte_position"
        ).fetchnumpy()["byte_position"]
        lines = pa.table({"byte_position": offsets, "line": _line_numbers(path, offsets)})
        con.register("_load_rejected_lines", lines)
        rejected = "_load_rejected join _load_rejected_lines using (byte_position)"
        [first_bad] = con.execute(
            f"""
            select first(line order by line) filter (where error_type = 'INVALID ENCODING'),
                first(line order by line) filter (where strlen(text) >= {_REJECTED_TEXT_LIMIT})
            from {rejected}
            """
        ).fetchall()
        if first_bad[0] is not None:
            raise ExtractError(
                f"cannot read {path}: line {first_bad[0]} is not UTF-8, the contract's encoding"
            )
        if first_bad[1] is not None:
            raise ExtractError(
                f"cannot read {path}: line {first_bad[1]} cannot be parsed and is longer than "
                f"{_REJECTED_TEXT_LIMIT:,} characters (a quote that never closes?), so it "
                "cannot be quarantined whole"
            )
        reasons = " ".join(
            f"when {_literal(error)} then {_literal(reason)}"
            for error, reason in _MALFORMED_REASONS.items()
        )
        con.execute(
            f"""
            insert into {_MALFORMED}
            select {rank}, _source_row, line,
                case error_type {reasons} else 'malformed CSV line: ' || error_message end,
                text
            from {rejected}
            """
        )
    finally:
        con.unregister("_load_rejected_lines")
        con.execute("drop table if exists _load_rejected")


def _line_numbers(path: Path, byte_positions: np.ndarray) -> np.ndarray:
    """The line of the file at each of the sorted 1-based byte positions: one more than
    the line breaks before it. Reads the file up to the last position, 16 MiB at a time
    (NumPy counts the breaks: ~0.6 s per GB)."""
    lines = np.empty(len(byte_positions), dtype=np.int64)
    breaks_before, start, done = 0, 0, 0
    with path.open("rb") as file:
        while done < len(byte_positions):
            block = file.read(_LINE_COUNT_BLOCK)
            end = start + len(block)
            upto = (
                len(byte_positions)
                if not block
                else int(np.searchsorted(byte_positions, end, side="right"))
            )
            breaks = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == ord("\n")) + start
            lines[done:upto] = (
                1 + breaks_before + np.searchsorted(breaks, byte_positions[done:upto], side="left")
            )
            breaks_before, start, done = breaks_before + len(breaks), end, upto
    return lines


def _number_records_around_malformed_lines(con: duckdb.DuckDBPyConnection, rank: int) -> None:
    """Parsed record g becomes record g + the malformed lines before it, so that parsed
    records and malformed lines share the file's record numbers.

    The j-th malformed line (in file order), record r_j, follows r_j - j parsed records.
    One as-of join over the file's records: ~1 s at 10M lines, for files with bad lines only.
    """
    con.execute(
        f"""
        create or replace temp table _load_renumbered as
        with malformed as (
            select _source_row - row_number() over (order by _source_row) as parsed_before,
                row_number() over (order by _source_row) as malformed_before
            from {_MALFORMED}
            where _file_rank = {rank}
        ),
        steps as (
            select parsed_before, max(malformed_before) as malformed_before
            from malformed
            group by parsed_before
        )
        select f.*, f.rowid + 1 + coalesce(s.malformed_before, 0) as _source_row
        from _load_file_{rank} as f
        asof left join steps as s on f.rowid + 1 > s.parsed_before
        """
    )
    con.execute(f"drop table _load_file_{rank}")
    con.execute(f"alter table _load_renumbered rename to _load_file_{rank}")


@contextmanager
def _insertion_order_preserved(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Record numbers come from rowids, which follow the file only with this setting on.

    With it off, 98% of the rowids of a 10M-line CSV are out of file order.
    """
    (was_on,) = con.execute("select current_setting('preserve_insertion_order')").fetchone()
    con.execute("set preserve_insertion_order = true")
    try:
        yield
    finally:
        con.execute(f"set preserve_insertion_order = {str(was_on).lower()}")


def _stage_select(contract: Table, ranks: list[int], renumbered: set[int]) -> str:
    """Every record read: the parsed ones, then the malformed lines with null values and
    `_malformed`, the line's number and text, which the quarantine keeps as the record."""
    parsed = [
        f"select * exclude (_source_row), {rank} as _file_rank, _source_row, "
        f"null::json as _malformed from _load_file_{rank}"
        if rank in renumbered
        else f"select *, {rank} as _file_rank, rowid + 1 as _source_row, "
        f"null::json as _malformed from _load_file_{rank}"
        for rank in ranks
    ]
    nulls = ", ".join(f"null::varchar as {_ident(name)}" for name in contract.column_names)
    malformed = (
        f"select {nulls}, _file_rank, _source_row, "
        f"json_object('csv_line_number', line, 'csv_line', text) as _malformed from {_MALFORMED}"
    )
    return " union all ".join([*parsed, malformed])


def _assign_periods(
    con: duckdb.DuckDBPyConnection, contract: Table, periods: tuple[str, ...] | None
) -> None:
    """Every record read -> its period (own, parent's, or its file's home period).

    Records of the other periods in the files read are checked too (a duplicate key
    may span periods) but not written: `_in_scope` is false for them.
    """
    source = contract.period_source
    in_scope = "true" if periods is None else _in_periods("_period", periods)
    if source is None:
        con.execute(
            f"create or replace temp table {_PERIODS} as "
            f"select _file_rank, _source_row, null::varchar as _period, true as _in_scope "
            f"from {_STAGE}"
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
        create or replace temp table {_PERIODS} as
        select *, {in_scope} as _in_scope
        from (
            select s._file_rank, s._source_row, coalesce({own}, home.home_period) as _period
            from {_STAGE} as s
            join {_FILES} as f using (_file_rank)
            left join ({_home_periods_sql(FILE_INDEX, contract.name)}) as home using (path)
            {parent_join}
        )
        """
    )


# --- checks 1-4: each record on its own ---------------------------------------------


def _find_record_problems(con: duckdb.DuckDBPyConnection, contract: Table) -> None:
    con.execute(
        f"""
        create or replace temp table {_PROBLEMS} (
            _file_rank integer, _source_row bigint, column_name varchar, reason varchar
        )
        """
    )
    checks = [_problem_select(*check) for check in _record_checks(contract)]
    checks += [_row_rule_select(contract, *rule) for rule in contract.row_rules]
    checks.append(f"select _file_rank, _source_row, 'csv_line', reason from {_MALFORMED}")
    con.execute(f"insert into {_PROBLEMS} {' union all '.join(checks)}")


def _record_checks(contract: Table) -> Iterator[tuple[str, str, str]]:
    """(column, condition over the text values that flags a problem, reason)."""
    for column in contract.columns:
        name = _ident(column.name)
        if not column.nullable:
            yield column.name, f"{name} is null", "missing required value"
        # Parquet and CSV both carry NUL bytes into text; no ERP value holds one.
        yield column.name, f"contains({name}, chr(0))", "NUL byte in the value"
        if column.type != "text":
            yield (
                column.name,
                f"{name} is not null and not coalesce({_is_valid_sql(column)}, false)",
                f"wrong type: expected {_EXPECTED[column.type]}",
            )
        if column.domain:
            allowed = ", ".join(_literal(value) for value in column.domain)
            yield (
                column.name,
                f"{name} not in ({allowed})",
                f"value outside domain: expected one of {', '.join(column.domain)}",
            )


def _is_valid_sql(column: Column) -> str:
    """True when the text value is a lossless value of the column's type.

    DuckDB's casts round ('1.5' -> bigint 2, '1.1234567' -> decimal 1.123457) and
    accept non-ISO dates ('2024/01/02'); the contract wants those rejected. Comparing
    with a wider cast rejects only what would change: '1.5000000' passes.
    """
    name = _ident(column.name)
    typed = f"try_cast({name} as {column.warehouse_type})"
    if column.type == "integer":
        return f"try_cast({name} as decimal(38, 18)) = {typed}"
    if column.type == "decimal":
        return f"try_cast({name} as decimal(38, 20)) = {typed}"
    if column.type in ("date", "timestamp"):
        pattern = _ISO_DATE if column.type == "date" else _ISO_TIMESTAMP
        return f"regexp_full_match(trim({name}), {_literal(pattern)}) and {typed} is not null"
    return f"{typed} is not null"


def _problem_select(column: str, condition: str, reason: str) -> str:
    return (
        f"select _file_rank, _source_row, {_literal(column)}, {_literal(reason)} "
        f"from {_PARSED} where {condition}"
    )


def _row_rule_select(contract: Table, predicate: str, column: str, reason: str) -> str:
    """A rule judged on typed values, like SQL's check constraints: null passes.

    A value of the wrong type counts as null here, so a rule does not trip over a
    value that check 2 already reported (a rounded '0.0000001' is not 'above zero').
    """
    typed = ", ".join(
        f"case when {_is_valid_sql(c)} then try_cast({_ident(c.name)} as {c.warehouse_type}) "
        f"end as {_ident(c.name)}"
        if c.type != "text"
        else _ident(c.name)
        for c in contract.columns
    )
    return (
        f"select _file_rank, _source_row, {_literal(column)}, {_literal(reason)} "
        f"from (select _file_rank, _source_row, {typed} from {_PARSED}) "
        f"where not coalesce(({predicate}), true)"
    )


def _keep_valid_records(con: duckdb.DuckDBPyConnection, contract: Table) -> None:
    typed = ", ".join(
        f"try_cast({_ident(c.name)} as {c.warehouse_type}) as {_ident(c.name)}"
        for c in contract.columns
    )
    con.execute(
        f"""
        create or replace temp table {_VALID} as
        select _file_rank, _source_row, {typed}
        from {_PARSED} as s
        where {_has_no_problem("s")}
        """
    )


def _has_no_problem(alias: str) -> str:
    return _not_listed_in(_PROBLEMS, alias)


def _is_kept(alias: str) -> str:
    """The record goes to raw.<table>: no problem, and no newer file replaced it."""
    return f"{_not_listed_in(_PROBLEMS, alias)} and {_not_listed_in(_SUPERSEDED, alias)}"


def _not_listed_in(records: str, alias: str) -> str:
    return (
        f"not exists (select 1 from {records} as listed where listed._file_rank = "
        f"{alias}._file_rank and listed._source_row = {alias}._source_row)"
    )


# --- checks 5, 6, 8: records that passed 1-4 ------------------------------------------


def _find_duplicate_keys(con: duckdb.DuckDBPyConnection, contract: Table) -> None:
    key = ", ".join(_ident(name) for name in contract.key)
    con.execute(
        f"""
        insert into {_PROBLEMS}
        select v._file_rank, v._source_row, ?, ?
        from {_VALID} as v
        join (
            select _file_rank, {key} from {_VALID} group by all having count(*) > 1
        ) as duplicated using (_file_rank, {key})
        """,
        [_column_list(contract.key), f"duplicate key ({_column_list(contract.key)}) in one file"],
    )


def _find_dangling_foreign_keys(con: duckdb.DuckDBPyConnection, contract: Table) -> None:
    for foreign_key in contract.foreign_keys:
        con.execute(
            f"""
            insert into {_PROBLEMS}
            select v._file_rank, v._source_row, ?, ?
            from {_VALID} as v
            where {_all_present("v", foreign_key.columns)}
              and not exists (
                select 1 from raw.{_ident(foreign_key.table)} as parent
                where {_join_condition(foreign_key)}
              )
            """,
            [
                _column_list(foreign_key.columns),
                f"foreign key points nowhere: no {foreign_key.table} row with "
                f"{_column_list(foreign_key.table_columns)} equal to this value",
            ],
        )


def _all_present(alias: str, columns: tuple[str, ...]) -> str:
    # A null reference points at nothing and is not a foreign key error.
    return " and ".join(f"{alias}.{_ident(name)} is not null" for name in columns)


def _join_condition(foreign_key: ForeignKey) -> str:
    return " and ".join(
        f"parent.{_ident(parent_column)} = v.{_ident(column)}"
        for column, parent_column in zip(
            foreign_key.columns, foreign_key.table_columns, strict=True
        )
    )


def _find_second_currencies(con: duckdb.DuckDBPyConnection, company_currency: str | None) -> None:
    """Money is in one currency per company; rows in any other one are quarantined."""
    currency = company_currency or _most_frequent_currency(con)
    if currency is None:
        return
    con.execute(
        f"""
        insert into {_PROBLEMS}
        select _file_rank, _source_row, 'currency',
            'mixed currencies: ' || currency || ', company currency is ' || $company
        from {_VALID}
        where currency <> $company
        """,
        {"company": currency},
    )


def _most_frequent_currency(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute(
        f"""
        select currency from {_VALID} as v
        where {_has_no_problem("v")}
        group by currency
        order by count(*) desc, currency
        limit 1
        """
    ).fetchone()
    return None if row is None else row[0]


# --- newest file wins, then check 7 on the kept versions ------------------------------


def _find_superseded_versions(
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
            select {_qualified("r", contract.key)}, coalesce(o._file_rank, 0)
            from raw.{_ident(contract.name)} as r
            join (select distinct {key} from accepted) as read_now using ({key})
            left join {_ORDER} as o on o.path = r._source_file
            where not {_in_periods("r._period", periods)}
        """
    con.execute(
        f"""
        create or replace temp table {_SUPERSEDED} as
        with accepted as (
            select _file_rank, _source_row, {key} from {_VALID} as v where {_has_no_problem("v")}
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


def _find_over_returns(con: duckdb.DuckDBPyConnection, periods: tuple[str, ...] | None) -> None:
    """A return may not take back more than the line sold minus the earlier accepted returns.

    Walks each line's returns in order (return_date, return_id), all lines at once:
    one step per return of the busiest line. A return over the limit is not added to
    the running total, so it does not condemn the returns after it. A period load
    judges its own returns only; the accepted returns of the other periods, from
    raw.returns, are settled and always count.
    """
    settled = ""
    if periods is not None:
        settled = f"""
            union all
            select null, null, o.invoice_id, o.line_number, o.return_date, o.return_id,
                o.quantity, true
            from raw.returns as o
            join (select distinct invoice_id, line_number from judged) as judged_line
                using (invoice_id, line_number)
            where not {_in_periods("o._period", periods)}
              and o.return_id not in (select return_id from judged)
        """
    con.execute(
        f"""
        insert into {_PROBLEMS}
        with recursive judged as (
            select r._file_rank, r._source_row, r.invoice_id, r.line_number, r.return_date,
                r.return_id, r.quantity, false as is_settled
            from {_VALID} as r
            join {_PERIODS} as p using (_file_rank, _source_row)
            where p._in_scope and {_is_kept("r")}
        ),
        ordered as (
            select
                x.*,
                line.quantity as sold,
                row_number() over (
                    partition by x.invoice_id, x.line_number order by x.return_date, x.return_id
                ) as return_order
            from (select * from judged {settled}) as x
            join raw.invoice_lines as line using (invoice_id, line_number)
        ),
        walk as (
            select
                _file_rank, _source_row, invoice_id, line_number, return_order,
                not is_settled and quantity > sold as is_over,
                case when not is_settled and quantity > sold then 0 else quantity end as returned
            from ordered
            where return_order = 1
            union all
            select
                o._file_rank, o._source_row, o.invoice_id, o.line_number, o.return_order,
                not o.is_settled and w.returned + o.quantity > o.sold,
                w.returned + case
                    when not o.is_settled and w.returned + o.quantity > o.sold then 0
                    else o.quantity
                end
            from walk as w
            join ordered as o
                on o.invoice_id = w.invoice_id
                and o.line_number = w.line_number
                and o.return_order = w.return_order + 1
        )
        select _file_rank, _source_row, 'quantity',
            'return exceeds what the invoice line sold minus earlier returns'
        from walk
        where is_over
        """
    )


# --- writing ----------------------------------------------------------------------


def _publish(
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
        from {_VALID} as k
        join {_FILES} as f using (_file_rank)
        join {_PERIODS} as p using (_file_rank, _source_row)
        where {_is_kept("k")}
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
            where {_in_periods("r._period", periods)}
            union all
            select r.rowid from {table} as r
            join {_FILES} as f on f.path = r._source_file
            join {_PERIODS} as p on p._file_rank = f._file_rank and p._source_row = r._source_row
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
                from {_VALID} as k
                join {_PERIODS} as p using (_file_rank, _source_row)
                where p._in_scope and {_is_kept("k")}
            ) as kept using ({key})
            left join {_ORDER} as o on o.path = r._source_file
            where coalesce(o._file_rank, 0) < kept._file_rank
        )
        """
    )
    con.execute(
        f"""
        insert into {table}
        select {_raw_columns(contract, "k")}
        from {_VALID} as k
        join {_FILES} as f using (_file_rank)
        join {_PERIODS} as p using (_file_rank, _source_row)
        where p._in_scope and {_is_kept("k")}
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
                where q.table_name = $table and {_in_periods("q.period", periods)}
                union all
                select q.rowid from raw.quarantine as q
                join {_FILES} as f on f.path = q.source_file
                join {_PERIODS} as p
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
            from {_PROBLEMS} as pr
            join {_STAGE} as s using (_file_rank, _source_row)
            join {_PERIODS} as p using (_file_rank, _source_row)
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
        join {_FILES} as f using (_file_rank)
        order by p._file_rank, p._source_row, p.column_name
        """,
        {"table": contract.name, "loaded_at": datetime.now(UTC).replace(tzinfo=None)},
    )


def _result(
    con: duckdb.DuckDBPyConnection,
    contract: Table,
    ranked: list[tuple[int, _ExtractFile]],
    periods: tuple[str, ...] | None,
) -> LoadResult:
    """Counts over the records of the loaded periods: loaded + quarantined + superseded = read."""
    in_scope = f"join {_PERIODS} as p using (_file_rank, _source_row) where p._in_scope"
    (rows_read,) = con.execute(f"select count(*) from {_STAGE} {in_scope}").fetchone()
    (rows_loaded,) = con.execute(
        f"select count(*) from {_VALID} as k {in_scope} and {_is_kept('k')}"
    ).fetchone()
    reasons = con.execute(
        f"""
        select reason, count(distinct (_file_rank, _source_row)) as records
        from {_PROBLEMS} {in_scope} group by reason order by records desc, reason
        """
    ).fetchall()
    (rows_quarantined,) = con.execute(
        f"select count(distinct (_file_rank, _source_row)) from {_PROBLEMS} {in_scope}"
    ).fetchone()
    (superseded_rows,) = con.execute(f"select count(*) from {_SUPERSEDED} {in_scope}").fetchone()
    return LoadResult(
        table=contract.name,
        files=tuple(str(file.path) for _, file in ranked),
        rows_read=rows_read,
        rows_loaded=rows_loaded,
        rows_quarantined=rows_quarantined,
        quarantine_reasons=dict(reasons),
        superseded_rows=superseded_rows,
        periods=periods,
    )


def _drop_working_tables(con: duckdb.DuckDBPyConnection, ranks: list[int]) -> None:
    con.execute(f"drop view if exists {_PARSED}")
    con.execute(f"drop view if exists {_STAGE}")
    for name in (_ORDER, _FILES, _MALFORMED, _PERIODS, _PROBLEMS, _VALID, _SUPERSEDED):
        con.execute(f"drop table if exists {name}")
    for rank in ranks:
        con.execute(f"drop table if exists _load_file_{rank}")


# --- SQL text -----------------------------------------------------------------------


def _column_list(columns: tuple[str, ...]) -> str:
    return ", ".join(columns)


def _qualified(alias: str, columns: tuple[str, ...]) -> str:
    return ", ".join(f"{alias}.{_ident(name)}" for name in columns)
