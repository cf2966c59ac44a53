"""Finding and reading a table's extract files: CSV and Parquet, every value as text.

The loader's first step (pipelines/loader/load.py), kept apart from the checks because
it is the only part that knows file formats: it stages every record of the files read in
the working tables (working_tables.py), so that the checks and the writing see CSV and
Parquet alike.

Row numbers: `_source_row` in `raw.<table>` and `source_row` in the quarantine are the
1-based record number within the file. In a CSV file the line number is the record
number + 1 (the header), unless an earlier field holds a quoted line break or an earlier
line is blank (DuckDB skips blank lines; a line of bare commas is a record).

Column names must match the contract exactly (lower-case); extra columns are ignored.
A CSV file's header line names its columns. A line that cannot be parsed (a field too
many or too few, an unbalanced quote) is a record with one problem, `csv_line`: its
record_json holds the text and the line number in the file. A file that is not UTF-8,
or an unreadable Parquet file, fails the table (ExtractError).

Reads. A CSV file is read on its own, with DuckDB's rejects tables. The Parquet files
that share a schema are read by one query (`parquet_read_groups`), which numbers each
file's records with DuckDB's file_row_number: Parquet has no lines to reject. Reading
each of the 250 monthly files of a 100-thousand-line demo with queries of its own (its
schema, its read, the rejects bookkeeping, its index entry) made a first run's ingest
take 13-14 s; reading them together, 4 s. A group that cannot be read together is read
file by file, which names the file that fails, as before.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from pipelines.contract import TABLES, Table
from pipelines.loader.working_tables import (
    FILE_ORDER,
    FILES_READ,
    MALFORMED,
    PARQUET_RECORDS,
    PARSED,
    STAGE,
    file_read_alone,
)
from pipelines.sql import quote_identifier as _ident
from pipelines.sql import quote_literal as _literal

EXTRACT_SUFFIXES = (".csv", ".parquet")

# RFC 4180 as the contract states it. The columns come from the header line, so
# DuckDB's sniffer never runs: it refuses a file with a ragged line among its first
# 20,480 lines instead of rejecting that line.
_CSV_OPTIONS = "header=true, auto_detect=false, delim=',', quote='\"', escape='\"'"
REJECTS = "_load_rejects"  # DuckDB's rejects table: the CSV lines a read could not parse
_LINE_COUNT_BLOCK = 16 * 2**20


class ExtractError(Exception):
    """An extract cannot be loaded at all: missing folder, unreadable file, missing column."""


@dataclass(frozen=True)
class ExtractFile:
    path: Path
    size_bytes: int
    modified_ns: int


def contract_table(table: str) -> Table:
    if table not in TABLES:
        raise ValueError(f"{table!r} is not a contract table; expected one of {sorted(TABLES)}")
    return TABLES[table]


def extract_files(folder: Path) -> list[ExtractFile]:
    """The table's extract files, oldest first (modification time, then name)."""
    if not folder.is_dir():
        raise ExtractError(f"missing table folder {folder.absolute()}")
    files = []
    for path in folder.iterdir():
        if path.is_file() and path.suffix.lower() in EXTRACT_SUFFIXES:
            stat = path.stat()
            files.append(ExtractFile(path.absolute(), stat.st_size, stat.st_mtime_ns))
    return sorted(files, key=lambda file: (file.modified_ns, file.path.name))


def first_error_line(error: Exception) -> str:
    """DuckDB's first line says what is wrong; the rest is the SQL text and tips."""
    return str(error).strip().splitlines()[0]


def is_csv(path: Path) -> bool:
    """Any extract file that is not CSV is Parquet (EXTRACT_SUFFIXES)."""
    return path.suffix.lower() == ".csv"


def _file_columns(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """The column names of the file: its CSV header line or its Parquet schema."""
    if is_csv(path):
        return _csv_header(path)
    try:
        schema = con.execute("describe select * from read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error as error:
        raise ExtractError(f"cannot read {path}: {first_error_line(error)}") from error
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
    if not is_csv(path):
        return "read_parquet(?)"
    columns = ", ".join(f"{_literal(name)}: 'varchar'" for name in names)
    errors = (
        f"store_rejects=true, rejects_table='{REJECTS}', rejects_scan='{REJECTS}_scan'"
        if store_rejects
        else "ignore_errors=true"
    )
    return f"read_csv(?, {_CSV_OPTIONS}, columns={{{columns}}}, {errors})"


def text_select(
    con: duckdb.DuckDBPyConnection, path: Path, columns: list[str], *, store_rejects: bool
) -> str:
    """A select of `columns` of the file as text (empty = null); the path is its parameter."""
    names = _file_columns(con, path)
    missing = [name for name in columns if name not in names]
    if missing:
        raise ExtractError(f"{path}: missing contract column(s) {', '.join(missing)}")
    reader = _reader_sql(path, names, store_rejects=store_rejects)
    return f"select {_as_text(columns)} from {reader}"


def _as_text(columns: list[str]) -> str:
    return ", ".join(
        f"nullif(cast({_ident(name)} as varchar), '') as {_ident(name)}" for name in columns
    )


def parquet_read_groups(
    con: duckdb.DuckDBPyConnection, paths: list[Path], columns: list[str]
) -> tuple[list[list[Path]], list[Path]]:
    """The Parquet files that one query can read, in groups, and the files to read alone.

    A group's files have the same schema (names, types, order), so that the group's
    read gives each file the text its own read would; they all hold `columns`. CSV
    files, Parquet files without one of `columns`, and the ones whose schema cannot be
    read are to read alone, in the order given: their own read raises or skips them
    as before. One query gets the schemas of all files: 40 ms for 250 files, where a
    describe of each took 200 ms.
    """
    parquet = [str(path) for path in paths if not is_csv(path)]
    schemas = _parquet_schemas(con, parquet)
    groups: dict[tuple, list[Path]] = {}
    alone = []
    for path in paths:
        schema = schemas.get(str(path))
        if schema is None or not set(columns) <= set(_top_level_names(schema)):
            alone.append(path)
        else:
            groups.setdefault(schema, []).append(path)
    return list(groups.values()), alone


def _parquet_schemas(con: duckdb.DuckDBPyConnection, paths: list[str]) -> dict[str, tuple]:
    """path -> its schema elements, root first; files whose schema cannot be read are left
    out (one query for all, or, when one of them fails it, one per file)."""
    query = """
        select file_name, list((name, num_children, type, type_length, repetition_type,
            converted_type, scale, precision, field_id, logical_type, duckdb_type)
            order by column_id)
        from parquet_schema(?::varchar[])
        group by file_name
    """
    if not paths:
        return {}
    try:
        rows = con.execute(query, [paths]).fetchall()
    except duckdb.Error:
        rows = []
        for path in paths:
            try:
                rows += con.execute(query, [[path]]).fetchall()
            except duckdb.Error:
                continue
    return {path: tuple(elements) for path, elements in rows}


def _top_level_names(schema: tuple) -> list[str]:
    """The columns of a Parquet file, as `describe` lists them: the root's children, not
    the fields inside a struct or list (the schema lists every element, depth first)."""
    (_, root_children, *_), *elements = schema
    names, children_left = [], [root_children or 0]
    for name, children, *_ in elements:
        if len(children_left) == 1:
            names.append(name)
        children_left[-1] -= 1
        if children:
            children_left.append(children)
        while len(children_left) > 1 and children_left[-1] == 0:
            children_left.pop()
    return names


def parquet_group_select(columns: list[str], *, row_numbers: bool) -> str:
    """A select of `columns` as text (empty = null) of a group of Parquet files, and each
    record's file (`_path`) and, with `row_numbers`, its 1-based `_source_row`, the
    number a read of the file alone gives it. The list of paths is its parameter.

    DuckDB refuses the read, rather than shadow the file's own column, if a file has a
    column named `file_row_number` or `_path`: the files are then read alone.
    """
    options = "filename='_path'" + (", file_row_number=true" if row_numbers else "")
    numbers = ", file_row_number + 1 as _source_row" if row_numbers else ""
    return f"select {_as_text(columns)}, _path{numbers} from read_parquet(?::varchar[], {options})"


def drop_rejects(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"drop table if exists {REJECTS}")
    con.execute(f"drop table if exists {REJECTS}_scan")


def has_rejects(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the last CSV read rejected a line. DuckDB 2.0 (pyproject.toml pins 2.0.x)
    creates the rejects tables on every read that stores rejects, empty when every line
    parsed: taking the table for bad lines cost every CSV file three more queries, 1.5 s
    of the 6.2 s a demo of 50 customers over 4 months took to load."""
    return con.execute(f"select exists (from {REJECTS})").fetchone()[0]


def stage_files(
    con: duckdb.DuckDBPyConnection,
    contract: Table,
    files: list[ExtractFile],
    ranked: list[tuple[int, ExtractFile]],
) -> None:
    """Stage the `ranked` files; ranks number every file of the table, oldest first."""
    con.execute(f"create or replace temp table {FILE_ORDER} (_file_rank integer, path varchar)")
    _insert_files(con, FILE_ORDER, list(enumerate(files, start=1)))
    con.execute(f"create or replace temp table {FILES_READ} (_file_rank integer, path varchar)")
    _insert_files(con, FILES_READ, ranked)
    con.execute(
        f"""
        create or replace temp table {MALFORMED} (
            _file_rank integer, _source_row bigint, line bigint, reason varchar, text varchar
        )
        """
    )
    alone = set(_stage_parquet_groups(con, contract, [file.path for _, file in ranked]))
    # In rank order, as before: the first of these files that fails names the error.
    read_alone = [(rank, file) for rank, file in ranked if file.path in alone]
    renumbered = {rank for rank, file in read_alone if _stage_file(con, contract, file.path, rank)}
    stage = _stage_select(contract, [rank for rank, _ in read_alone], renumbered)
    con.execute(f"create or replace temp view {STAGE} as {stage}")
    con.execute(
        f"create or replace temp view {PARSED} as select * from {STAGE} where _malformed is null"
    )


def _insert_files(
    con: duckdb.DuckDBPyConnection, table: str, ranked: list[tuple[int, ExtractFile]]
) -> None:
    """One insert for all files: one each took ~0.9 ms, 0.4 s over 2 x 250 files."""
    con.execute(
        f"insert into {table} select unnest(?::integer[]), unnest(?::varchar[])",
        [[rank for rank, _ in ranked], [str(file.path) for _, file in ranked]],
    )


def _stage_parquet_groups(
    con: duckdb.DuckDBPyConnection, contract: Table, paths: list[Path]
) -> list[Path]:
    """Copy the contract columns of the Parquet files read together, as text, into
    PARQUET_RECORDS with each record's file rank and row; returns the files to read alone.

    A group whose read fails is left to its files' own reads, which say which one fails.
    """
    columns = contract.column_names
    groups, alone = parquet_read_groups(con, paths, columns)
    text = ", ".join(f"{_ident(name)} varchar" for name in columns)
    con.execute(
        f"create or replace temp table {PARQUET_RECORDS} "
        f"({text}, _file_rank integer, _source_row bigint)"
    )
    for group in groups:
        try:
            con.execute(
                f"""
                insert into {PARQUET_RECORDS}
                select r.* exclude (_path, _source_row), o._file_rank, r._source_row
                from ({parquet_group_select(columns, row_numbers=True)}) as r
                join {FILE_ORDER} as o on o.path = r._path
                """,
                [[str(path) for path in group]],
            )
        except duckdb.Error:
            alone += group
    return alone


def _stage_file(con: duckdb.DuckDBPyConnection, contract: Table, path: Path, rank: int) -> bool:
    """Copy the contract columns of one file, as text, into `file_read_alone(rank)`.

    Reading one file into its own table keeps the file's record order in the rowid,
    which numbers the records of both formats alike (read_csv has no file_row_number).
    The lines of a CSV file that cannot be parsed go to `_load_malformed`, and then the
    records after them are numbered anew (True): each rejected line took a number.
    """
    source = text_select(con, path, contract.column_names, store_rejects=True)
    table = file_read_alone(rank)
    csv_file = is_csv(path)
    if csv_file:
        drop_rejects(con)
    with _insertion_order_preserved(con):
        try:
            con.execute(f"create or replace temp table {table} as {source}", [str(path)])
        except duckdb.Error as error:
            raise ExtractError(f"cannot read {path}: {first_error_line(error)}") from error
    if not csv_file:
        return False
    try:
        if not has_rejects(con):
            return False
        _collect_malformed_lines(con, path, rank)
    finally:
        drop_rejects(con)
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
              from {REJECTS})
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
            insert into {MALFORMED}
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
            from {MALFORMED}
            where _file_rank = {rank}
        ),
        steps as (
            select parsed_before, max(malformed_before) as malformed_before
            from malformed
            group by parsed_before
        )
        select f.*, f.rowid + 1 + coalesce(s.malformed_before, 0) as _source_row
        from {file_read_alone(rank)} as f
        asof left join steps as s on f.rowid + 1 > s.parsed_before
        """
    )
    con.execute(f"drop table {file_read_alone(rank)}")
    con.execute(f"alter table _load_renumbered rename to {file_read_alone(rank)}")


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
    """Every record read: the parsed ones (of the Parquet files read together, then of
    each file read alone, `ranks`), then the malformed lines with null values and
    `_malformed`, the line's number and text, which the quarantine keeps as the record."""
    parsed = [f"select *, null::json as _malformed from {PARQUET_RECORDS}"]
    parsed += [
        f"select * exclude (_source_row), {rank} as _file_rank, _source_row, "
        f"null::json as _malformed from {file_read_alone(rank)}"
        if rank in renumbered
        else f"select *, {rank} as _file_rank, rowid + 1 as _source_row, "
        f"null::json as _malformed from {file_read_alone(rank)}"
        for rank in ranks
    ]
    nulls = ", ".join(f"null::varchar as {_ident(name)}" for name in contract.column_names)
    malformed = (
        f"select {nulls}, _file_rank, _source_row, "
        f"json_object('csv_line_number', line, 'csv_line', text) as _malformed from {MALFORMED}"
    )
    return " union all ".join([*parsed, malformed])
