"""Stage a source (a database, or ERP-shaped files through a mapping) as a landing folder.

Every contract table becomes `<staged>/<table>/<period>.parquet` (dimensions:
`all.parquet`, records without a period: `unplaced.parquet`), each value as text and
the source record's key in `_source_key`. The loader then reads the staged folder like
any landing folder: the same checks, quarantine and raw tables, and the same period
semantics, since a staged period is a file (pipelines/loader/). The rows
stream from the source into Parquet batch by batch; nothing of a fact table is held
in Python.

A period run stages only its periods: the query of each table with a period carries
the period's date range (`invoice_date >= '2024-03-01' and invoice_date < '2024-04-01'`),
so the database reads and sends only those rows; invoice lines and shipments take
their invoice's period through a sub-query on the invoices. Tables with a folder in the
`files` folder beside the source (cost pools and the ledger, say) are linked from there.

Quarantine rows of staged files name the source table and key (`label_quarantine`).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.contract import LOAD_ORDER, PERIOD_PATTERN, TABLES, Table
from pipelines.sources.mapping import SOURCE_KEY, MappedTable, MappingError, contract_shape
from pipelines.sources.readers import SourceError
from pipelines.sql import quote_literal

LINEAGE_FILE = ".lineage.json"  # staged file -> "source, table"
WHOLE_FILE = "all.parquet"
UNPLACED_FILE = "unplaced.parquet"


@dataclass(frozen=True)
class StagedTable:
    table: str
    origin: str  # "files <folder>" or "<source> <source table>"
    files: int
    rows: int


def stage_source(
    reader,
    mapping: dict[str, MappedTable],
    staged: Path,
    *,
    periods: Sequence[str] | None = None,
    files: Path | None = None,
    tables: Sequence[str] = LOAD_ORDER,
) -> list[StagedTable]:
    """Write the contract tables of `reader` (through `mapping`) into the folder `staged`.

    `periods` None stages everything anew; otherwise only those periods of the tables
    with a period (dimensions are always staged whole) and the other staged periods
    stay as the last run left them. `tables`: all of the contract's, unless a test says.
    """
    staged.mkdir(parents=True, exist_ok=True)
    lineage = _read_json(staged / LINEAGE_FILE)
    fingerprints: dict[str, dict[str, list]] = {}  # the periods each table holds
    done = []
    for name in tables:
        folder = staged / name
        if files is not None and (Path(files) / name).is_dir():
            _link(folder, (Path(files) / name).absolute())
            lineage = _without_table(lineage, name)
            done.append(StagedTable(name, f"files {Path(files) / name}", 0, 0))
            continue
        table = mapping.get(name) or contract_shape(name)
        origin = f"{reader.label} {_source_table(table)}"
        if folder.is_symlink():
            folder.unlink()
        if TABLES[name].period_source is None or periods is None:
            shutil.rmtree(folder, ignore_errors=True)
            lineage = _without_table(lineage, name)
        folder.mkdir(exist_ok=True)
        source = TABLES[name].period_source
        if source is not None and source.via is None:
            fingerprints[name] = table_fingerprint(reader, table)
        parent = None if source is None else (source.via or name)
        if parent is not None and parent not in fingerprints:
            fingerprints[parent] = table_fingerprint(reader, _parent(mapping, TABLES[name]))
        known = sorted(
            period
            for period in (fingerprints[parent] if parent else ())
            if re.fullmatch(PERIOD_PATTERN, period)
        )
        written = _stage_table(reader, mapping, table, folder, periods, known)
        for file_name in written:
            lineage[f"{name}/{file_name}"] = origin
        done.append(StagedTable(name, origin, len(written), sum(written.values())))
    (staged / LINEAGE_FILE).write_text(json.dumps(lineage, indent=1, sort_keys=True))
    return done


def table_fingerprint(reader, table: MappedTable) -> dict[str, list]:
    """Period -> [rows, latest update as text]: one aggregate query over the source table.

    The database sensor compares it with the one kept from the last staging."""
    period = _period_text(table)
    updated = f"cast(max({table.updated}) as varchar)" if table.updated else "null"
    where = f" where ({table.where})" if table.where else ""
    sql = (
        f"select {period} as period, count(*) as records, {updated} as updated "
        f"from {table.source}{where} group by 1"
    )
    try:
        rows = reader.rows(sql)
    except SourceError as error:
        raise _located(reader, table, error) from None
    return {str(period): [int(count), updated] for period, count, updated in rows}


def label_quarantine(con: duckdb.DuckDBPyConnection, landing: Path, table: str) -> None:
    """Quarantine rows from staged files name the source table and the record's key in
    place of the file: `postgresql://erp@db:5432/odoo res_partner, key 42`. Each record
    keeps its own name, so the reports' counts of distinct records stay right."""
    lineage = _read_json(Path(landing) / LINEAGE_FILE)
    for relative, origin in lineage.items():
        if not relative.startswith(f"{table}/"):
            continue
        path = str((Path(landing) / relative).absolute())
        con.execute(
            f"""
            update raw.quarantine as q
            set source_file = ? || ', key ' || coalesce(s.{SOURCE_KEY}, 'null')
            from (
                select file_row_number + 1 as source_row, {SOURCE_KEY}
                from read_parquet(?, file_row_number = true)
            ) as s
            where q.table_name = ? and q.source_file = ? and q.source_row = s.source_row
            """,
            [origin, path, table, path],
        )


# --- one table --------------------------------------------------------------------------


def _stage_table(
    reader,
    mapping: dict[str, MappedTable],
    table: MappedTable,
    folder: Path,
    periods: Sequence[str] | None,
    known: list[str],
) -> dict[str, int]:
    """Staged file name -> rows written; `known`: the periods the source holds."""
    contract = table.contract
    if contract.period_source is None:
        return {WHOLE_FILE: _write(reader, table, table.select_sql(), folder / WHOLE_FILE)}
    parent = _parent(mapping, contract)
    chosen = known if periods is None else sorted(set(periods))
    written = {}
    for period in chosen:
        path = folder / f"{period}.parquet"
        rows = _write(reader, table, table.select_sql(_in_periods(table, parent, [period])), path)
        if rows:
            written[path.name] = rows
        else:
            path.unlink(missing_ok=True)
    if periods is None:
        # What no period query placed (a null date, an invoice line without an invoice):
        # the loader quarantines it in its file's home period, never drops it.
        outside = f"not coalesce({_in_periods(table, parent, known)}, false)" if known else None
        path = folder / UNPLACED_FILE
        rows = _write(reader, table, table.select_sql(outside), path)
        if rows:
            written[path.name] = rows
        else:
            path.unlink(missing_ok=True)
    return written


def _parent(mapping: dict[str, MappedTable], contract: Table) -> MappedTable | None:
    via = contract.period_source.via
    return None if via is None else (mapping.get(via) or contract_shape(via))


def _in_periods(table: MappedTable, parent: MappedTable | None, periods: list[str]) -> str:
    """SQL true for the rows of `periods`: the period column's range, pushed to the source."""
    if parent is None:
        return _own_periods(table, periods)
    column = table.contract.period_source.column
    key = parent.expression(parent.contract.key[0])
    where = " and ".join(f"({c})" for c in (parent.where, _own_periods(parent, periods)) if c)
    return f"({table.expression(column)}) in (select ({key}) from {parent.source} where {where})"


def _own_periods(table: MappedTable, periods: list[str]) -> str:
    column = table.contract.column(table.contract.period_source.column)
    expression = table.expression(column.name)
    if column.type == "text":
        listed = ", ".join(quote_literal(period) for period in periods)
        return f"cast(({expression}) as varchar) in ({listed})"
    ranges = []
    for period in periods:
        first, after = _month_start(period), _month_start(_next_month(period))
        ranges.append(
            f"(({expression}) >= cast({quote_literal(first)} as date) "
            f"and ({expression}) < cast({quote_literal(after)} as date))"
        )
    return "(" + " or ".join(ranges) + ")"


def _period_text(table: MappedTable) -> str:
    """The period (YYYY-MM) of a row, as SQL both PostgreSQL and DuckDB understand."""
    expression = table.expression(table.contract.period_source.column)
    return f"left(cast(({expression}) as varchar), 7)"


def _month_start(period: str) -> str:
    return date(int(period[:4]), int(period[5:7]), 1).isoformat()


def _next_month(period: str) -> str:
    year, month = int(period[:4]), int(period[5:7])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


def _write(reader, table: MappedTable, sql: str, path: Path) -> int:
    """Stream the query's batches into a Parquet file; the rows written."""
    writer = None
    rows = 0
    try:
        for batch in reader.batches(sql):
            if writer is None:
                writer = pq.ParquetWriter(path, _all_text(batch.schema))
            writer.write_batch(batch.cast(_all_text(batch.schema)))
            rows += batch.num_rows
    except SourceError as error:
        raise _located(reader, table, error) from None
    finally:
        if writer is not None:
            writer.close()
    if writer is None:  # no batch at all: an empty file still says the table was read
        pq.write_table(pa.table({name: pa.array([], pa.string()) for name in _names(table)}), path)
    return rows


def _located(reader, table: MappedTable, error: SourceError) -> MappingError | SourceError:
    """Which mapped entry's SQL the source refused: each is tried alone, on no rows."""
    if table.file is None:
        return SourceError(f"{table.contract.name} from {table.source}: {error}")
    where = f" and ({table.where})" if table.where else ""
    probes = [(column.name, column.expression, column.line) for column in table.columns]
    probes.append(("key", table.key, table.line))
    for name, expression, line in probes:
        try:
            reader.rows(
                f"select cast(({expression}) as varchar) from {table.source} where false{where}"
            )
        except SourceError as refused:
            return MappingError(
                f"{table.file}, line {line}: {table.contract.name}.{name}: the source refused "
                f"its SQL: {refused}"
            )
    return MappingError(
        f"{table.file}, line {table.line}: {table.contract.name} (from {table.source}): "
        f"the source refused the mapped SQL: {error}"
    )


def _names(table: MappedTable) -> list[str]:
    return [*table.contract.column_names, SOURCE_KEY]


def _all_text(schema: pa.Schema) -> pa.Schema:
    # PostgreSQL's text arrives as string; large_string from DuckDB becomes string too.
    return pa.schema([pa.field(field.name, pa.string()) for field in schema])


def _source_table(table: MappedTable) -> str:
    """The first table of the FROM clause, for lineage: `account_move_line as l join ...`."""
    return table.source.split()[0].strip('"')


def _link(folder: Path, target: Path) -> None:
    if folder.is_symlink() or folder.is_file():
        folder.unlink()
    elif folder.is_dir():
        shutil.rmtree(folder)
    folder.symlink_to(target, target_is_directory=True)


def _without_table(lineage: dict[str, str], table: str) -> dict[str, str]:
    return {path: origin for path, origin in lineage.items() if not path.startswith(f"{table}/")}


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


# --- what changed in a database: the sensor's counterpart of file fingerprints ---------


def source_fingerprints(
    reader, mapping: dict[str, MappedTable], files: Path | None = None
) -> dict[str, dict[str, list]]:
    """Per source table with its own period: period -> [rows, latest update]; customers and
    products under the period "*". One aggregate query per table, no row leaves the source;
    tables read from the files beside the database are left to the landing scan."""
    fingerprints = {}
    for name in LOAD_ORDER:
        source = TABLES[name].period_source
        if (files is not None and (Path(files) / name).is_dir()) or (source and source.via):
            continue
        table = mapping.get(name) or contract_shape(name)
        if source is None:
            updated = f"cast(max({table.updated}) as varchar)" if table.updated else "null"
            where = f" where ({table.where})" if table.where else ""
            sql = f"select count(*), {updated} from {table.source}{where}"
            try:
                ((count, latest),) = reader.rows(sql)
            except SourceError as error:
                raise _located(reader, table, error) from None
            fingerprints[name] = {"*": [int(count), latest]}
        else:
            fingerprints[name] = table_fingerprint(reader, table)
    return fingerprints


def changed_periods_in_source(earlier: dict, now: dict, latest_closed: str | None) -> set[str]:
    """The periods whose row count or latest update moved; a change to customers or
    products asks for the latest closed period (as a changed file of theirs does)."""
    changed = set()
    for name in earlier.keys() | now.keys():
        before, after = earlier.get(name, {}), now.get(name, {})
        for period in before.keys() | after.keys():
            if before.get(period) != after.get(period):
                changed.add(period)
    if "*" in changed:
        changed.discard("*")
        if latest_closed:
            changed.add(latest_closed)
    return {period for period in changed if re.fullmatch(PERIOD_PATTERN, period)}
