"""Dagster's SQLite event log, storing a range run's per-period events in one go.

A run over a range of periods records one materialization per asset and period: about
1,500 for a 24-month build. Dagster's SQLite storage writes each event on its own, in
new connections to two databases (about 8 ms each, some 25 s a run). Dagster hands
such events over in batches when DAGSTER_EVENT_BATCH_SIZE is set (`oasis` sets it:
TOOL_ENVIRONMENT in orchestration/cli.py), and dagster-postgres writes a batch at once;
this storage does the same for SQLite. Every event is still stored, one row each.

It also keeps each database's connection open for the next statement. Dagster's SQLite
storage creates an engine without a pool for every read and write, so every statement
opens the file, and closing it costs about 1 ms: a run of 50 customers over 3 months made
6,500 connections, and keeping them open saved 6 s of the Oasis process's 40 s of CPU.
Transactions stay as Dagster's: each commits when its block ends, and the file is changed
in place (no write-ahead log), so the web UI in another process, which watches the run's
file to stream its events, sees each commit as before. And it remembers which tables the
index has, which Dagster asked before most queries, through an engine each time (another
6.5 s).

dagster.yaml selects it; its files stay where Dagster's default puts them. `_connect`
overrides a private method of Dagster's SqliteEventLogStorage, and the batch reuses its
private statements: tests/orchestration/test_event_log.py runs both against the
installed Dagster.
"""

import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from dagster import DagsterEventType, DagsterInvariantViolationError, Field, StringSource
from dagster._core.event_api import EventLogEntry
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
)
from dagster._core.storage.sqlalchemy_compat import db_result
from dagster._serdes import ConfigurableClassData
from sqlalchemy import Connection, Engine, create_engine

_BATCHED_EVENT_TYPES = {DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.ASSET_OBSERVATION}


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage whose `store_event_batch` uses one transaction per database."""

    @classmethod
    def config_type(cls) -> dict[str, Field]:
        return {
            "base_dir": Field(
                StringSource,
                is_required=False,
                description="Folder of the event databases; default $DAGSTER_HOME/history/runs.",
            )
        }

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> "BatchedSqliteEventLogStorage":
        base_dir = config_value.get("base_dir")
        if not base_dir:
            if "DAGSTER_HOME" not in os.environ:
                raise DagsterInvariantViolationError(
                    f"{cls.__name__} needs the config base_dir, or DAGSTER_HOME set"
                )
            base_dir = os.path.join(os.environ["DAGSTER_HOME"], "history", "runs")
        return cls(base_dir=base_dir, inst_data=inst_data)

    # A long-lived process (`oasis ui`'s daemon and web server) reads many runs' databases:
    # the engines (and open files) of the most recent ones are kept, the others closed.
    _KEPT_ENGINES = 32

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: dict[str, Engine] = {}
        self._engines_lock = threading.Lock()
        self._tables_present: set[str] = set()
        super().__init__(base_dir=base_dir, inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        """The shard's engine, made once, with SQLAlchemy's default pool for a SQLite file
        (its connections stay open)."""
        with self._engines_lock:
            engine = self._engines.pop(shard, None) or create_engine(
                self.conn_string_for_shard(shard),
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            self._engines[shard] = engine
            while len(self._engines) > self._KEPT_ENGINES:
                self._engines.pop(next(iter(self._engines))).dispose()
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        """What Dagster's `_connect` does, through the shard's kept engine."""
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as connection, connection.begin():
                yield connection

    def has_table(self, table_name: str) -> bool:
        """Whether the index has the table, asked once it does: Dagster asks before most
        queries (1,177 times a run of 50 customers over 3 months, each through an engine of
        its own), and only a migration adds a table; `wipe` forgets the answers."""
        if table_name not in self._tables_present:
            engine = self._engine(INDEX_SHARD_NAME)
            with engine.connect() as connection:
                if engine.dialect.has_table(connection, table_name):
                    self._tables_present.add(table_name)
        return table_name in self._tables_present

    def _close_engines(self) -> None:
        with self._engines_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
        self._tables_present.clear()

    def dispose(self) -> None:
        super().dispose()
        self._close_engines()

    def wipe(self) -> None:
        # Dagster deletes the runs' files: connections left open would write into them.
        self._close_engines()
        super().wipe()

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """What `store_event` does for each event, in two transactions for the batch: the
        rows in the run's database, their copies, tags and the assets' latest event in the
        cross-run index."""
        run_ids = {event.run_id for event in events}
        if len(run_ids) != 1 or not all(
            event.is_dagster_event and event.dagster_event_type in _BATCHED_EVENT_TYPES
            for event in events
        ):
            super().store_event_batch(events)
            return
        with self.run_connection(run_ids.pop()) as connection:
            connection.execute(self.prepare_insert_event_batch(events))
        with self.index_transaction() as connection:
            event_ids = []
            for event in events:
                with db_result(connection, self.prepare_insert_event(event)) as result:
                    event_ids.append(result.inserted_primary_key[0])
            self._store_asset_event_tags(connection, events, event_ids)
            latest_by_asset = {
                event.get_dagster_event().asset_key: (event, event_id)
                for event, event_id in zip(events, event_ids, strict=True)
            }
            for event, event_id in latest_by_asset.values():
                self._store_asset_event(connection, event, event_id)
