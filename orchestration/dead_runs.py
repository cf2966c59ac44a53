"""Runs whose process was killed: marked failed by the next start.

A run killed with `kill -9` (or by the out-of-memory killer, or a reboot) cannot report
its end, so Dagster shows it as started for ever, and the run queue of dagster.yaml,
one run per warehouse, holds every later run of that warehouse behind it. Its lock file
still names it (pipelines/warehouse_lock.py empties the file only when a run lets go),
so `oasis run` and `oasis ui` look there when they start and mark such a run failed,
with the reason, before anything else uses the warehouse.
"""

from __future__ import annotations

from pathlib import Path

from dagster import DagsterInstance

from pipelines.warehouse_lock import read_lock_holder


def fail_dead_run(instance: DagsterInstance, warehouse: Path) -> str | None:
    """Marks the unfinished run whose process held `warehouse` and is gone as failed;
    returns what it did, in a sentence, or None when there was nothing to do."""
    holder = read_lock_holder(warehouse)
    if holder is None or holder.run_id is None or not holder.is_gone:
        return None
    run = instance.get_run_by_id(holder.run_id)
    if run is None or run.is_finished:
        return None
    instance.report_run_failed(
        run,
        message=(
            f"The process of this run ({holder.describe()}) is gone without ending the run: it "
            "was killed (kill -9, out of memory, a reboot). Marked failed by the next start "
            f"of Oasis on the warehouse {warehouse}, so that the run queue can start its "
            "next run."
        ),
    )
    return (
        f"Run {run.run_id} was killed ({holder.describe()}) and still showed as started: "
        "marked it failed."
    )
