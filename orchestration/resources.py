"""Resources: where the warehouse and the landing folder are (set through EnvVar)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse file. One writer at a time: connections are short-lived
    so that dbt, which opens the same file next, never waits on us."""

    path: str
    # Keeps a run under the benchmark's 6 GB peak: DuckDB spills to disk beyond it.
    memory_limit: str = "4GB"

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        connection = duckdb.connect(
            self.path, read_only=read_only, config={"memory_limit": self.memory_limit}
        )
        try:
            yield connection
        finally:
            connection.close()


class LandingFolderResource(ConfigurableResource):
    """The landing folder of ERP extracts (CONTRACT.md) and the company currency."""

    path: str
    company_currency: str | None = None


class ReportsFolderResource(ConfigurableResource):
    path: str
