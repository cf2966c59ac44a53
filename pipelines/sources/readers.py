"""Where the rows come from: a PostgreSQL database (ADBC, Arrow record batches) or a folder
of ERP-shaped files (DuckDB). Both answer the same SQL text, compiled from a mapping."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pyarrow as pa

from pipelines.loader.reading import EXTRACT_SUFFIXES
from pipelines.sql import quote_identifier

DATABASE_SCHEMES = ("postgresql://", "postgres://")


class SourceError(RuntimeError):
    """The source cannot be read at all: unreachable server, missing table, bad SQL."""


def is_database_url(text: str | Path | None) -> bool:
    return isinstance(text, str) and text.startswith(DATABASE_SCHEMES)


def database_label(url: str) -> str:
    """The URL as messages show it. A password in it is refused (require_no_password)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def require_no_password(url: str) -> None:
    """OASIS_SOURCE is handed to Dagster and dbt and shows in run logs: no secret in it."""
    if urlsplit(url).password is not None:
        raise SourceError(
            "the source URL holds a password: remove it and give it in PGPASSWORD or a "
            "~/.pgpass file (libpq reads both), so that it never shows in logs or run tags"
        )


class DatabaseReader:
    """A PostgreSQL database, read through the ADBC driver: each query's rows stream as
    Arrow record batches, so a table of any size needs the memory of a few batches."""

    def __init__(self, url: str) -> None:
        require_no_password(url)
        import adbc_driver_postgresql.dbapi as adbc

        self.label = database_label(url)
        self.queries: list[str] = []
        try:
            self._connection = adbc.connect(url)
        except Exception as error:  # the driver's errors have no common base besides Exception
            raise SourceError(f"cannot connect to {self.label}: {_first_line(error)}") from None

    def batches(self, sql: str) -> Iterator[pa.RecordBatch]:
        self.queries.append(sql)
        with self._connection.cursor() as cursor:
            try:
                cursor.execute(sql)
                reader = cursor.fetch_record_batch()
            except Exception as error:
                self._connection.rollback()
                raise SourceError(_first_line(error)) from None
            yield from reader

    def rows(self, sql: str) -> list[tuple]:
        """A small result (an aggregate per period)."""
        batches = list(self.batches(sql))
        table = pa.Table.from_batches(batches) if batches else pa.table({})
        return [tuple(row.values()) for row in table.to_pylist()]

    def close(self) -> None:
        self._connection.close()


class FolderReader:
    """A folder of ERP-shaped extracts, `<folder>/<source table>/*.csv|*.parquet`, each
    source table a DuckDB view (types as DuckDB detects them), so a mapping's SQL runs
    over files as it does over a database."""

    def __init__(self, folder: Path) -> None:
        self.label = str(Path(folder).absolute())
        self.queries: list[str] = []
        self._connection = duckdb.connect(":memory:")
        for table in sorted(path for path in Path(folder).iterdir() if path.is_dir()):
            files = sorted(
                str(path) for path in table.iterdir() if path.suffix.lower() in EXTRACT_SUFFIXES
            )
            if not files:
                continue
            reader = "read_parquet" if files[0].lower().endswith(".parquet") else "read_csv"
            self._connection.execute(
                f"create view {quote_identifier(table.name)} as "
                f"select * from {reader}({_list_literal(files)}, union_by_name = true)"
            )

    def batches(self, sql: str) -> Iterator[pa.RecordBatch]:
        self.queries.append(sql)
        try:
            reader = self._connection.sql(sql).to_arrow_reader()
        except duckdb.Error as error:
            raise SourceError(_first_line(error)) from None
        yield from reader

    def rows(self, sql: str) -> list[tuple]:
        self.queries.append(sql)
        try:
            return self._connection.execute(sql).fetchall()
        except duckdb.Error as error:
            raise SourceError(_first_line(error)) from None

    def close(self) -> None:
        self._connection.close()


def _list_literal(paths: list[str]) -> str:
    return "[" + ", ".join("'" + path.replace("'", "''") + "'" for path in paths) + "]"


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
