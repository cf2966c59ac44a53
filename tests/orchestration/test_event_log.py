"""The instance's SQLite event log (orchestration/event_log.py): a range run's per-period
materializations, written in batches, are stored exactly as Dagster stores them one by one."""

import shutil
from pathlib import Path

import pytest
from dagster import (
    AssetExecutionContext,
    AssetKey,
    DagsterInstance,
    StaticPartitionsDefinition,
    asset,
    materialize,
)

from orchestration.event_log import BatchedSqliteEventLogStorage
from orchestration.partitions import (
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    one_run_per_range,
)
from pipelines.settings import REPO_ROOT

PERIODS = StaticPartitionsDefinition(["2026-01", "2026-02", "2026-03", "2026-04"])


@asset(partitions_def=PERIODS, backfill_policy=one_run_per_range)
def pnl_rows(context: AssetExecutionContext) -> None:
    context.log.info(f"building {context.partition_keys}")


@asset(partitions_def=PERIODS, backfill_policy=one_run_per_range, deps=[pnl_rows])
def customer_rows(context: AssetExecutionContext) -> None:
    context.log.info(f"building {context.partition_keys}")


ASSETS = (AssetKey("pnl_rows"), AssetKey("customer_rows"))


def _stored_materializations(instance: DagsterInstance) -> list[tuple[str, str, str, dict]]:
    """Per asset and partition, in order: the run, and the tags the cross-run index holds
    for the event (Dagster's data versions are looked up through them)."""
    stored = []
    for key in ASSETS:
        for record in instance.fetch_materializations(key, limit=100, ascending=True).records:
            [tags] = instance.event_log_storage.get_event_tags_for_asset(
                key, filter_event_id=record.storage_id
            )
            stored.append((key.to_user_string(), record.partition_key, record.run_id, tags))
    return stored


def _range_run(home: Path, monkeypatch: pytest.MonkeyPatch, batch_size: str) -> dict:
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", batch_size)
    with DagsterInstance.from_config(str(home)) as instance:
        result = materialize(
            [pnl_rows, customer_rows],
            instance=instance,
            tags={
                PARTITION_RANGE_START_TAG: "2026-02",
                PARTITION_RANGE_END_TAG: "2026-04",
            },
        )
        assert result.success
        return {
            "storage": type(instance.event_log_storage),
            "run_id": result.run_id,
            "events": len(instance.all_logs(result.run_id)),
            "stored": _stored_materializations(instance),
            "latest": {
                key.to_user_string(): instance.get_latest_materialization_event(
                    key
                ).asset_materialization.partition
                for key in ASSETS
            },
            "materialized": {
                key.to_user_string(): instance.get_materialized_partitions(key) for key in ASSETS
            },
        }


def test_a_range_run_stores_the_same_events_in_batches_as_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batched_home, default_home = tmp_path / "batched", tmp_path / "default"
    batched_home.mkdir()
    default_home.mkdir()
    shutil.copyfile(REPO_ROOT / "dagster.yaml", batched_home / "dagster.yaml")
    (default_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    batches = []
    store_event_batch = BatchedSqliteEventLogStorage.store_event_batch

    def spied_store_event_batch(self, events):
        batches.append([event.get_dagster_event().partition for event in events])
        store_event_batch(self, events)

    monkeypatch.setattr(BatchedSqliteEventLogStorage, "store_event_batch", spied_store_event_batch)

    batched = _range_run(batched_home, monkeypatch, "100")
    one_by_one = _range_run(default_home, monkeypatch, "0")

    assert batched["storage"] is BatchedSqliteEventLogStorage
    assert one_by_one["storage"] is not BatchedSqliteEventLogStorage
    # One batch of materializations per asset: its periods of the range.
    assert sorted(map(sorted, batches)).count(["2026-02", "2026-03", "2026-04"]) == 2
    # The same rows, in the same order, but for values a run makes its own (its id, the
    # code version Dagster takes from it, and the data versions built from those).
    assert [(name, period, tags.keys()) for name, period, _, tags in batched["stored"]] == [
        (name, period, tags.keys()) for name, period, _, tags in one_by_one["stored"]
    ]
    assert sorted((name, period) for name, period, _, _ in batched["stored"]) == [
        (name, period)
        for name in ("customer_rows", "pnl_rows")
        for period in ("2026-02", "2026-03", "2026-04")
    ]
    for _, _, run_id, tags in batched["stored"]:
        assert run_id == batched["run_id"]
        assert tags["dagster/data_version"]
    assert batched["latest"] == one_by_one["latest"]
    # The asset's latest materialization is the one stored last.
    assert batched["latest"] == {name: period for name, period, _, _ in batched["stored"]}
    assert batched["materialized"] == one_by_one["materialized"]
    assert batched["materialized"]["customer_rows"] == {"2026-02", "2026-03", "2026-04"}
    assert batched["events"] == one_by_one["events"]
