"""The one writer of every feed: the latest as-of period of a mart as files that other systems
read, and the records added, changed or removed since the previous publication, so that a
system can apply deltas (docs/policy_feed.md, docs/portal_feed.md).

A feed is declared, not coded: a `Feed` names its mart, the columns that identify a record,
the columns whose change makes a record "changed", its schema and schema version
(pipelines/policy_feed.py, pipelines/portal_feeds.py). Plain Python, no Dagster. Every file is
written to a temporary name in the same folder and renamed over the old one only when all
of them are written (`os.replace`, pipelines/publication.py), so a reader never sees half a
file; the manifest goes last and says which publication the folder holds.

    <feed>.parquet|.csv|.jsonl           the latest as-of period
    <feed>.changes.parquet|.csv|.jsonl   records added, changed or removed
    <feed>.previous.parquet              the publication the changes compare with
    <feed>.manifest.json                 schema version, as-of period, counts, checksums
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.csv_files import write_csv
from pipelines.publication import StagedFiles, file_sha256

CHANGE_TYPES = ("added", "changed", "removed")

# Two floats closer than this are the same value: rates are recomputed every run and
# differ in the 15th digit without anything having changed.
_FLOAT_TOLERANCE = 1e-9


class EmptyFeed(ValueError):
    """The mart holds no record: publishing would mark every record as removed."""


@dataclass(frozen=True)
class Feed:
    """One feed. `schema`: the columns after `schema_version` and `as_of_period`, in order.

    Bump the major number of `schema_version` for a breaking change (a column removed,
    renamed or retyped, a meaning changed), the minor one for a column added. Consumers
    check the major number.
    """

    name: str
    mart: str
    key: tuple[str, ...]
    change_columns: tuple[str, ...]
    columns: pa.Schema
    schema_version: str
    # What the manifest counts ("customers", "skus"): the integrators' word for a record.
    record_noun: str = "records"
    # A feed whose mart may be empty in a month (no alert raised): publish it empty.
    allow_empty: bool = False

    @property
    def schema(self) -> pa.Schema:
        return pa.schema(
            [("schema_version", pa.string()), ("as_of_period", pa.string()), *self.columns]
        )

    @property
    def changes_schema(self) -> pa.Schema:
        return pa.schema(
            [
                ("change_type", pa.string()),
                # the change columns whose values differ, comma-separated (all of them for
                # added and removed records)
                ("changed_columns", pa.string()),
                ("previous_as_of_period", pa.string()),
                *self.schema,
            ]
        )

    def paths(self, folder: Path) -> dict[str, Path]:
        return {
            "parquet": folder / f"{self.name}.parquet",
            "csv": folder / f"{self.name}.csv",
            "jsonl": folder / f"{self.name}.jsonl",
            "changes_parquet": folder / f"{self.name}.changes.parquet",
            "changes_csv": folder / f"{self.name}.changes.csv",
            "changes_jsonl": folder / f"{self.name}.changes.jsonl",
            "previous": folder / f"{self.name}.previous.parquet",
            "manifest": folder / f"{self.name}.manifest.json",
        }


@dataclass(frozen=True)
class FeedPublication:
    feed: str
    folder: Path
    as_of_period: str
    published_at: str
    records: int
    changes: dict[str, int]  # change_type -> records
    previous_as_of_period: str | None
    previous_published_at: str | None
    files: dict[str, Path]  # role -> file


def read_feed(
    connection: duckdb.DuckDBPyConnection, feed: Feed, as_of_period: str | None = None
) -> pa.Table:
    """The mart's rows of `as_of_period` (the latest one if None), in the feed's columns."""
    columns = ",\n".join(
        f"cast({_quoted(field.name)} as {_duckdb_type(field.type)}) as {_quoted(field.name)}"
        for field in feed.columns
    )
    mart = f"marts.{_quoted(feed.mart)}"
    rows = connection.sql(
        f"""
        select $schema_version as schema_version, as_of_period, {columns}
        from {mart}
        where as_of_period = coalesce($as_of_period, (select max(as_of_period) from {mart}))
        order by {", ".join(map(_quoted, feed.key))}
        """,
        params={"as_of_period": as_of_period, "schema_version": feed.schema_version},
    )
    return to_feed_table(feed, rows.to_arrow_table())


def to_feed_table(feed: Feed, table: pa.Table) -> pa.Table:
    """`table` in the feed's column order and types; extra columns are dropped."""
    if "schema_version" not in table.column_names:
        table = table.append_column(
            "schema_version", pa.array([feed.schema_version] * table.num_rows, pa.string())
        )
    missing = [name for name in feed.schema.names if name not in table.column_names]
    if missing:
        raise ValueError(f"{feed.mart} lacks the feed columns {', '.join(missing)}")
    return table.select(feed.schema.names).cast(feed.schema)


def compute_changes(
    feed: Feed,
    previous: pa.Table | None,
    current: pa.Table,
    *,
    as_of_period: str | None = None,
    previous_as_of_period: str | None = None,
) -> pa.Table:
    """Records whose change columns differ between two publications, one row each, in DuckDB.

    added: in `current` only; removed: in `previous` only (the row as last published, so a
    system knows what to undo); changed: in both with a different value in a change
    column. The rows carry the current values (the previous ones for removed records) and
    the current as-of period, with `previous_as_of_period` beside it.
    """
    current_as_of = as_of_period or _single_as_of_period(current)
    previous_as_of = previous_as_of_period or (
        _single_as_of_period(previous) if previous is not None else None
    )
    # A previous publication of an older schema may lack columns: they read as null.
    previous = _with_schema(feed, previous)
    key_match = " and ".join(
        f"p.{_quoted(k)} is not distinct from c.{_quoted(k)}" for k in feed.key
    )
    differences = ", ".join(
        f"case when {_differs(feed, name)} then '{name}' end" for name in feed.change_columns
    )
    every_column = ",".join(feed.change_columns)
    stamp = "replace ($as_of_period as as_of_period, $schema_version as schema_version)"
    connection = duckdb.connect()
    try:
        connection.register("current_rows", current)
        connection.register("previous_rows", previous)
        changes = connection.sql(
            f"""
            with compared as (
                select c.*, concat_ws(',', {differences}) as differences
                from current_rows as c
                inner join previous_rows as p on {key_match}
            )

            select
                'added' as change_type,
                $every_column as changed_columns,
                $previous_as_of_period as previous_as_of_period,
                c.* {stamp}
            from current_rows as c
            where not exists (select 1 from previous_rows as p where {key_match})
            union all
            select
                'removed',
                $every_column,
                $previous_as_of_period,
                p.* {stamp}
            from previous_rows as p
            where not exists (select 1 from current_rows as c where {key_match})
            union all
            select
                'changed',
                differences,
                $previous_as_of_period,
                * exclude (differences) {stamp}
            from compared
            where differences <> ''
            order by {", ".join(map(_quoted, feed.key))}
            """,
            params={
                "as_of_period": current_as_of,
                "schema_version": feed.schema_version,
                "previous_as_of_period": previous_as_of,
                "every_column": every_column,
            },
        ).to_arrow_table()
    finally:
        connection.close()
    return changes.select(feed.changes_schema.names).cast(feed.changes_schema)


def publish_feed(
    feed: Feed,
    folder: Path,
    rows: pa.Table,
    *,
    published_at: datetime,
    run_id: str | None = None,
    as_of_period: str | None = None,
) -> FeedPublication:
    """Writes the feed of `rows` (one as-of period) and its changes since the publication
    already in `folder`, which becomes the previous one."""
    publication, staged = stage_feed(
        feed, folder, rows, published_at=published_at, run_id=run_id, as_of_period=as_of_period
    )
    staged.commit()
    return publication


def stage_feed(
    feed: Feed,
    folder: Path,
    rows: pa.Table,
    *,
    published_at: datetime,
    run_id: str | None = None,
    warehouse: Path | None = None,
    inputs: Callable[[list[dict]], list[dict]] | None = None,
    as_of_period: str | None = None,
) -> tuple[FeedPublication, StagedFiles]:
    """What `publish_feed` writes, written to temporary names: committing the staged files
    publishes it (together with other outputs of the run: pipelines/publication.py). The
    manifest names the warehouse and the run it came from, and `inputs(known)` the extract
    files read with their checksums (given the previous manifest's). `as_of_period`: the
    period of an empty feed (a non-empty one says its own)."""
    current = to_feed_table(feed, rows)
    if current.num_rows == 0 and not (feed.allow_empty and as_of_period):
        raise EmptyFeed(f"{feed.mart} holds no record: nothing published")
    if current.num_rows:
        as_of_period = _single_as_of_period(current)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = feed.paths(folder)

    previous = None
    previous_manifest: dict = {}
    if paths["parquet"].exists():
        previous = pq.read_table(paths["parquet"])
        if paths["manifest"].exists():
            previous_manifest = json.loads(paths["manifest"].read_text())
    previous_as_of = previous_manifest.get("as_of_period") or (
        _single_as_of_period(previous) if previous is not None and previous.num_rows else None
    )
    changes = compute_changes(
        feed,
        previous,
        current,
        as_of_period=as_of_period,
        previous_as_of_period=previous_as_of,
    )

    stamp = published_at.isoformat(timespec="seconds")
    # Temporary files first, renamed in an order that never leaves the folder
    # inconsistent for a reader that starts from the manifest: the previous publication,
    # the changes, the feed, and the manifest last.
    staged = StagedFiles()

    def stage(role: str, content, write: Callable[[object, Path], None]) -> None:
        temporary = paths[role].with_name(f".{paths[role].name}.{os.getpid()}.tmp")
        write(content, temporary)
        staged.add(temporary, paths[role])

    try:
        if previous is not None:
            stage("previous", paths["parquet"], shutil.copyfile)
        for prefix, table in (("changes_", changes), ("", current)):
            stage(f"{prefix}parquet", table, _write_parquet)
            stage(f"{prefix}csv", table, write_csv)
            stage(f"{prefix}jsonl", table, _write_jsonl)

        change_types = changes["change_type"].to_pylist()
        change_counts = {kind: change_types.count(kind) for kind in CHANGE_TYPES}
        manifest = {
            "feed": feed.name,
            "schema_version": feed.schema_version,
            "as_of_period": as_of_period,
            "published_at": stamp,
            "run_id": run_id,
            "warehouse": str(warehouse) if warehouse else None,
            "inputs": inputs(previous_manifest.get("inputs", [])) if inputs else [],
            "key": list(feed.key),
            feed.record_noun: current.num_rows,
            "changes": change_counts,
            "previous": {
                "as_of_period": previous_as_of,
                "published_at": previous_manifest.get("published_at"),
            },
            "files": {
                path.name: {"sha256": file_sha256(temporary)}
                for temporary, path in staged.renames
                if path != paths["previous"]
            },
        }
        stage("manifest", manifest, _write_json)
    except BaseException:
        staged.discard()
        raise
    if previous is None:
        # A first publication: a previous file left from an older folder would mislead.
        staged.removals.append(paths["previous"])

    finals = {path for _, path in staged.renames}
    publication = FeedPublication(
        feed=feed.name,
        folder=folder,
        as_of_period=as_of_period,
        published_at=stamp,
        records=current.num_rows,
        changes=change_counts,
        previous_as_of_period=manifest["previous"]["as_of_period"],
        previous_published_at=manifest["previous"]["published_at"],
        files={role: path for role, path in paths.items() if path in finals},
    )
    return publication, staged


def _with_schema(feed: Feed, table: pa.Table | None) -> pa.Table:
    if table is None:
        return feed.schema.empty_table()
    columns = [
        table[field.name].cast(field.type)
        if field.name in table.column_names
        else pa.nulls(table.num_rows, field.type)
        for field in feed.schema
    ]
    return pa.Table.from_arrays(columns, schema=feed.schema)


def _differs(feed: Feed, name: str) -> str:
    column = _quoted(name)
    if pa.types.is_floating(feed.schema.field(name).type):
        return (
            f"(p.{column} is null) <> (c.{column} is null) "
            f"or abs(p.{column} - c.{column}) >= {_FLOAT_TOLERANCE}"
        )
    return f"p.{column} is distinct from c.{column}"


_DUCKDB_TYPES = {
    pa.string(): "varchar",
    pa.int32(): "integer",
    pa.int64(): "bigint",
    pa.float64(): "double",
    pa.bool_(): "boolean",
}


def _duckdb_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_decimal(arrow_type):
        return f"decimal({arrow_type.precision}, {arrow_type.scale})"
    return _DUCKDB_TYPES[arrow_type]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path)


def _write_json(document: dict, path: Path) -> None:
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _write_jsonl(table: pa.Table, path: Path) -> None:
    # A feed holds one row per customer or SKU of one period (thousands, not the P&L's
    # millions): written batch by batch all the same.
    with path.open("w", encoding="utf-8") as out:
        for batch in table.to_batches(max_chunksize=10_000):
            for row in batch.to_pylist():
                out.write(json.dumps(row, default=_json_value, ensure_ascii=False) + "\n")


def _json_value(value):
    if isinstance(value, Decimal):
        # Amounts are rounded to the cent: a JSON number with up to 2 decimals is exact.
        return float(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _single_as_of_period(table: pa.Table) -> str:
    periods = set(table["as_of_period"].to_pylist())
    if len(periods) != 1:
        raise ValueError(f"a feed holds one as-of period, not {sorted(map(str, periods))}")
    return periods.pop()
