"""Every mart as Parquet, for BI tools that do not read DuckDB files (docs/parquet_marts.md).

    <exports>/marts -> .marts_versions/<version>     a symbolic link, switched per publication
    <exports>/marts/<mart>/<mart>.parquet             a small mart: one file
    <exports>/marts/<mart>/period=<YYYY-MM>/*.parquet the P&L and the audit trail, hive-style
    <exports>/marts/manifest.json                     run, marts, rows, files with sha256

A publication writes a new version folder beside the old ones (which proves the folder
writable and has room), then replaces the link `marts` with one to the new version: one
rename, atomic, so a reader sees every mart of one run or every mart of the next, never a
mix or half a folder. The version before stays on disk for readers that still hold its
files open (a BI refresh that started before the switch); older ones are removed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.publication import StagedFiles, file_sha256
from pipelines.sql import quote_identifier

LINK_NAME = "marts"
VERSIONS_FOLDER = ".marts_versions"
MANIFEST_NAME = "manifest.json"
# The marts with a row per document row (10 M lines for a large distributor): one folder
# per period, so a BI tool reads the months it shows and a month's refresh rewrites one
# folder's worth of bytes in the tool's cache.
PARTITIONED_BY_PERIOD = ("fct_invoice_line_pnl", "fct_cost_allocations")


class MartsFolderIsNotALink(RuntimeError):
    """`<exports>/marts` is a real folder: it cannot be switched atomically."""


@dataclass(frozen=True)
class ParquetMarts:
    link: Path
    version: Path
    rows: dict[str, int]  # mart -> rows
    bytes: int


def stage_parquet_marts(
    warehouse: Path, exports: Path, run_id: str, config: dict[str, str]
) -> tuple[ParquetMarts, StagedFiles]:
    """Writes every table and view of the schema `marts` as Parquet into a new version
    folder; committing the staged files switches `<exports>/marts` to it.
    `config`: DuckDB's settings (pipelines.settings.duckdb_config)."""
    exports = Path(exports)
    link = exports / LINK_NAME
    if link.exists() and not link.is_symlink():
        raise MartsFolderIsNotALink(
            f"{link} is a folder, not the link a publication switches: move it away "
            "(docs/parquet_marts.md)."
        )
    stamp = datetime.now(UTC)
    version = exports / VERSIONS_FOLDER / f"{stamp:%Y%m%dT%H%M%S}-{run_id[:8]}"
    version.mkdir(parents=True)
    staged = StagedFiles(folders=[version])
    try:
        rows = _write_marts(Path(warehouse), version, config)
        files = sorted(path for path in version.rglob("*.parquet"))
        manifest = {
            "run_id": run_id,
            "published_at": stamp.isoformat(timespec="seconds"),
            "warehouse": str(warehouse),
            "marts": {
                name: {
                    "rows": count,
                    "partitioned_by": "period" if name in PARTITIONED_BY_PERIOD else None,
                }
                for name, count in rows.items()
            },
            "files": {
                str(path.relative_to(version)): {"sha256": file_sha256(path)} for path in files
            },
        }
        (version / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
        temporary_link = exports / f".{LINK_NAME}.{run_id[:8]}.tmp"
        temporary_link.unlink(missing_ok=True)
        # Relative, so that the exports folder can be moved or mounted elsewhere.
        os.symlink(version.relative_to(exports), temporary_link, target_is_directory=True)
        staged.add(temporary_link, link)
    except BaseException:
        staged.discard()
        raise
    current = link.resolve() if link.is_symlink() else None
    staged.obsolete_folders += [
        folder
        for folder in (exports / VERSIONS_FOLDER).iterdir()
        if folder.is_dir() and folder != version and folder.resolve() != current
    ]
    size = sum(path.stat().st_size for path in files)
    return ParquetMarts(link=link, version=version, rows=rows, bytes=size), staged


def _write_marts(warehouse: Path, version: Path, config: dict[str, str]) -> dict[str, int]:
    connection = duckdb.connect(config=config)
    try:
        connection.execute("attach ? as working (read_only)", [str(warehouse)])
        names = [
            name
            for (name,) in connection.execute(
                """
                select table_name from duckdb_tables()
                where database_name = 'working' and schema_name = 'marts'
                union all
                select view_name from duckdb_views()
                where database_name = 'working' and schema_name = 'marts' and not internal
                order by 1
                """
            ).fetchall()
        ]
        rows = {}
        for name in names:
            relation = f"working.marts.{quote_identifier(name)}"
            folder = version / name
            if name in PARTITIONED_BY_PERIOD:
                target, options = folder, "format parquet, partition_by (period)"
            else:
                folder.mkdir()
                target, options = folder / f"{name}.parquet", "format parquet"
            # COPY answers the rows it wrote: the audit trail view is computed once.
            (rows[name],) = connection.execute(
                f"copy (select * from {relation}) to '{_sql_text(target)}' ({options})"
            ).fetchone()
        return rows
    finally:
        connection.close()


def _sql_text(path: Path) -> str:
    return str(path).replace("'", "''")
