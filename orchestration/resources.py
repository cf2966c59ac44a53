"""Resources: where the warehouse, the landing, reports and exports folders are (set through
EnvVar)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource, Failure, InitResourceContext

from pipelines.landing import LandingScan, landing_scan
from pipelines.settings import duckdb_config, out_of_memory_message
from pipelines.warehouse_lock import hold_warehouse_lock

# The run tag naming the warehouse a job writes (its path is the value). dagster.yaml limits
# runs to one per value of this tag, so runs queued by the UI, schedules and sensors wait
# for the warehouse instead of failing on it.
WAREHOUSE_RUN_TAG = "oasis/warehouse"


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse file. One writer at a time: connections are short-lived
    so that dbt, which opens the same file next, never waits on us.

    A run with a step that uses this resource holds the warehouse's run lock
    (pipelines/warehouse_lock.py) from its first step to its end, dbt's steps included:
    the run queue of dagster.yaml orders only the runs the daemon launches, not
    `oasis run` or a second instance (docs/dagster_instance.md)."""

    path: str
    # Keeps a run under the benchmark's 6 GB peak: DuckDB spills to disk beyond it.
    memory_limit: str = "4GB"
    # Seconds a run waits for another run to let go of the warehouse (OASIS_WAREHOUSE_LOCK_WAIT);
    # 0 fails at once, naming the other run's pid.
    lock_wait_seconds: int = 0
    # Where dbt runs (OASIS_ENGINE): on spark, dbt's tables are Spark's, copied in after
    # the build (pipelines/spark_tables.py).
    engine: str = "duckdb"

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator[WarehouseResource]:
        # With the in-process executor of definitions.py, Dagster sets up the resources of
        # every step of the run once, before the first step, and tears them down after the
        # last (test_warehouse_lock.py checks it). The multiprocess executor would set them
        # up per step, and two parallel steps would lock each other out.
        progress = context.log.warning if context.log else None
        with hold_warehouse_lock(
            Path(self.path), self.lock_wait_seconds, progress=progress, run_id=context.run_id
        ):
            yield self

    @property
    def duckdb_config(self) -> dict[str, str]:
        return duckdb_config(Path(self.path), self.memory_limit)

    def out_of_memory(self, duckdb_said: str) -> Failure:
        return Failure(out_of_memory_message(Path(self.path), self.memory_limit, duckdb_said))

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        connection = duckdb.connect(self.path, read_only=read_only, config=self.duckdb_config)
        try:
            yield connection
        except duckdb.OutOfMemoryException as error:
            raise self.out_of_memory(str(error)) from error
        finally:
            connection.close()


class LandingFolderResource(ConfigurableResource):
    """The landing folder of ERP extracts (CONTRACT.md) and the company currency."""

    path: str
    company_currency: str | None = None
    # Where scans of the folder keep which periods each file holds (Settings.landing_index).
    index_path: str | None = None

    def scan(self) -> LandingScan:
        return landing_scan(Path(self.path), Path(self.index_path) if self.index_path else None)


class ReportsFolderResource(ConfigurableResource):
    path: str


class ExportsFolderResource(ConfigurableResource):
    """Where feeds for other systems are written (OASIS_EXPORTS)."""

    path: str
