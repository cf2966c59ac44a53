"""A run that stops half-way leaves the working warehouse marked as mid-update.

Each table loads in a transaction of its own, and dbt builds after every table loaded:
when one table fails (an unreadable file) while another already changed (new cost pools),
the raw tables and the marts disagree, and a check would report wrong numbers (pools off
by the change) with nothing saying why. So a run marks the warehouse before its first
table loads, with the periods it changes, in `meta.mid_update`, and removes the mark once
dbt built and the audit passed. The next run rebuilds the marked periods with its own
(`PeriodScope` in orchestration/partitions.py), so it repairs the warehouse by itself, and
`oasis check` says "mid-update since run X" instead of auditing numbers that do not add up.

Why a mark and not a copy: a run that changes one month would have to copy the whole
warehouse first (or keep a second one in step) to be able to go back. The mark costs a
few rows and milliseconds per run whatever the warehouse's size (docs/dagster_instance.md
has the measurement).

Plain Python on a DuckDB connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

# One row per run and period it changes; a null period: the run rebuilds every period.
TABLE = "meta.mid_update"


@dataclass(frozen=True)
class MidUpdate:
    """A run that changed the working warehouse and has not finished: what it changed."""

    run_id: str
    started_at: datetime
    periods: tuple[str, ...] | None  # None: every period

    def describe(self) -> str:
        periods = "every period" if self.periods is None else ", ".join(self.periods)
        return (
            f"mid-update since run {self.run_id} "
            f"(started {self.started_at:%Y-%m-%d %H:%M:%S} UTC): {periods} must be rebuilt"
        )


def mark_mid_update(
    connection: duckdb.DuckDBPyConnection, run_id: str, periods: Sequence[str] | None
) -> None:
    """Marks the warehouse as being changed by `run_id` in `periods` (None: every period).
    Called before each table loads: the first call inserts, later ones add periods."""
    connection.execute("create schema if not exists meta")
    connection.execute(
        f"create table if not exists {TABLE} "
        "(run_id varchar not null, started_at timestamp not null, period varchar)"
    )
    connection.execute(
        f"""
        insert into {TABLE}
        select ?, now() at time zone 'UTC', period
        from unnest(?::varchar[]) as marked(period)
        where not exists (
            select 1 from {TABLE} as already
            where already.run_id = ? and already.period is not distinct from marked.period
        )
        """,
        [run_id, [None] if periods is None else list(periods), run_id],
    )


def mid_updates(connection: duckdb.DuckDBPyConnection) -> list[MidUpdate]:
    """The unfinished runs that marked the warehouse, oldest first (none: it is whole)."""
    (exists,) = connection.execute(
        "select count(*) from duckdb_tables() where schema_name = 'meta' "
        "and table_name = 'mid_update' and database_name = current_database()"
    ).fetchone()
    if not exists:
        return []
    rows = connection.execute(
        f"""
        select run_id, min(started_at), bool_or(period is null), list(period order by period)
        from {TABLE}
        group by run_id
        order by min(started_at), run_id
        """
    ).fetchall()
    return [
        MidUpdate(
            run_id,
            started_at,
            None if every else tuple(period for period in periods if period is not None),
        )
        for run_id, started_at, every, periods in rows
    ]


def clear_mid_update(connection: duckdb.DuckDBPyConnection) -> None:
    """The run built and audited everything every mark asked for: the warehouse is whole."""
    if mid_updates(connection):
        connection.execute(f"delete from {TABLE}")
