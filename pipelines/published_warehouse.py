"""The published warehouse and the audited snapshot: the copies of the working warehouse
that readers open, staged for the publication (pipelines/publication.py) to rename into
place together with the feeds.

Why copies: dbt builds every model in one `dbt build` call, so no check can stop the
working file's marts from being replaced (blocking checks only hold back later steps),
and DuckDB lets one process write a file while readers in other processes wait. Readers
get the published file instead, swapped in whole by a rename.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.publication import StagedFiles
from pipelines.sql import quote_identifier

# Older DuckDB builds, which many BI drivers bundle, cannot open DuckDB 2.0's format.
PUBLISHED_STORAGE_VERSION = "v1.4.0"


@dataclass(frozen=True)
class Publication:
    path: Path
    tables: dict[str, int]  # mart -> rows


def published_path(warehouse: Path) -> Path:
    """`warehouse.duckdb` -> `warehouse.published.duckdb`, in the same folder."""
    return warehouse.with_name(f"{warehouse.stem}.published.duckdb")


def audited_snapshot_path(warehouse: Path) -> Path:
    """`warehouse.duckdb` -> `warehouse.audited.duckdb`, in the same folder."""
    return warehouse.with_name(f"{warehouse.stem}.audited.duckdb")


def stage_audited_snapshot(warehouse: Path, run_id: str) -> StagedFiles:
    """A copy of the whole working warehouse as its audit passed, for `oasis check` and
    `oasis explain`: they read raw tables and the audit trail, which the published copy
    does not hold, and must never open the file a run is writing (DuckDB lets one process
    write a file, and a reader there made a run die in dbt). The run holds the warehouse,
    so nothing writes it now: a checkpoint folds its write-ahead log into the file, and the
    file alone is the snapshot. A file copy: about 5 s per GiB on these machines."""
    target = audited_snapshot_path(warehouse)
    temporary = target.with_name(f".{target.name}.{run_id[:8]}.tmp")
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("checkpoint")
    shutil.copyfile(warehouse, temporary)
    staged = StagedFiles()
    staged.add(temporary, target)
    # A log left by a reader that crashed would not belong to the new file.
    staged.removals.append(target.with_name(target.name + ".wal"))
    return staged


# A mart view names what it reads by schema and table (`intermediate.int_...`), without the
# database: created in the published file, it reads that file's copies.
_INTERMEDIATE_TABLE = re.compile(r"\bintermediate\.(\w+)")


def _copy_views(connection: duckdb.DuckDBPyConnection, views: list[tuple[str, str]]) -> None:
    """Creates `views` (name, SQL) in published.marts over copies of their intermediates."""
    inputs = sorted({table for _, sql in views for table in _INTERMEDIATE_TABLE.findall(sql)})
    if inputs:
        connection.execute("create schema published.intermediate")
    for table in map(quote_identifier, inputs):
        connection.execute(
            f"create table published.intermediate.{table} as "
            f"select * from working.intermediate.{table}"
        )
    connection.execute("use published")
    for _, sql in views:
        connection.execute(sql)
    connection.execute("use memory")


def stage_marts(
    warehouse: Path, run_id: str, config: dict[str, str]
) -> tuple[Publication, StagedFiles]:
    """Copies every table of the schema `marts` into a new published file.

    Written to a temporary file beside the published one; committing the staged file
    renames it over that one, so a reader sees the old file or the new one, never half of
    one, and a reader that has the old file open keeps reading it. A view of `marts` (the
    audit trail, ~13 rows per P&L row) stays a view: the intermediate tables it reads are
    copied into the schema `intermediate` of the published file (about one row per P&L
    row and one per period and pool), and the view is created there from its own SQL, so
    it reads the same rows as in the working file (docs/parquet_marts.md has the sizes).
    `config`: DuckDB's settings (pipelines.settings.duckdb_config).
    """
    target = published_path(Path(warehouse))
    temporary = target.with_name(f".{target.name}.{run_id[:8]}.tmp")
    temporary.unlink(missing_ok=True)
    connection = duckdb.connect(config=config)
    try:
        connection.execute("attach ? as working (read_only)", [str(warehouse)])
        connection.execute(
            "attach ? as published (storage_version ?)",
            [str(temporary), PUBLISHED_STORAGE_VERSION],
        )
        names = [
            name
            for (name,) in connection.execute(
                """
                select table_name from duckdb_tables()
                where database_name = 'working' and schema_name = 'marts'
                order by table_name
                """
            ).fetchall()
        ]
        connection.execute("create schema published.marts")
        tables = {}
        for name in names:
            table = quote_identifier(name)
            connection.execute(
                f"create table published.marts.{table} as select * from working.marts.{table}"
            )
            (tables[name],) = connection.execute(
                f"select count(*) from published.marts.{table}"
            ).fetchone()
        views = connection.execute(
            """
            select view_name, sql from duckdb_views()
            where database_name = 'working' and schema_name = 'marts' and not internal
            order by view_name
            """
        ).fetchall()
        _copy_views(connection, views)
        names = sorted([*names, *(name for name, _ in views)])
        for name, _ in views:
            (tables[name],) = connection.execute(
                f"select count(*) from published.marts.{quote_identifier(name)}"
            ).fetchone()
        connection.execute("create schema published.meta")
        connection.execute(
            """
            create table published.meta.publication as
            select ? as run_id, ? as published_at, ? as source_warehouse, ? as marts
            """,
            [run_id, datetime.now(UTC).replace(tzinfo=None), str(warehouse), names],
        )
        connection.execute("detach published")
    except BaseException:
        connection.close()
        temporary.unlink(missing_ok=True)
        raise
    connection.close()
    staged = StagedFiles()
    staged.add(temporary, target)
    return Publication(target, tables), staged
