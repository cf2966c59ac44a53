"""The landing sensor and the month-close schedule, evaluated against a real Dagster
instance and a real demo landing folder: which partitions they add, which runs they
request, and what the sensor's cursor remembers."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from dagster import (
    DagsterInstance,
    RunRequest,
    SensorResult,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
)
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from orchestration.automation import (
    month_close_schedule,
    months_between,
    new_extracts_sensor,
    period_range_run_requests,
)
from orchestration.partitions import (
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    period_partitions,
)
from orchestration.resources import LandingFolderResource
from pipelines.demo.erp import DemoSummary, write_demo_erp


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return write_demo_erp(tmp_path_factory.mktemp("landing"), customers=50, months=4, seed=5)


@pytest.fixture
def instance(tmp_path: Path):
    # A local instance, not an ephemeral one: a schedule's context needs a reference to it.
    # Not entered with `with`: that would make it the process's current definitions-state
    # storage, which later tests would find disposed.
    local = DagsterInstance.local_temp(str(tmp_path))
    yield local
    local.dispose()


def _requested_ranges(requests: list[RunRequest]) -> list[tuple[str, str]]:
    return [
        (
            request.tags.get(PARTITION_RANGE_START_TAG, request.partition_key),
            request.tags.get(PARTITION_RANGE_END_TAG, request.partition_key),
        )
        for request in requests
    ]


def _evaluate(instance: DagsterInstance, landing: Path, cursor: str | None) -> SensorResult:
    with build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"landing": LandingFolderResource(path=str(landing))},
    ) as context:
        result = new_extracts_sensor(context)
    assert isinstance(result, SensorResult)
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def _touch(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_the_sensor_adds_every_closed_period_and_runs_what_changed(
    demo: DemoSummary, instance: DagsterInstance
) -> None:
    first, *_, latest = demo.closed_periods
    result = _evaluate(instance, demo.out_dir, cursor=None)
    # First look: every period from the first in the extracts to the latest closed one,
    # in one run (one dbt call); the open month is not a partition yet.
    assert instance.get_dynamic_partitions(period_partitions.name) == list(demo.closed_periods)
    assert _requested_ranges(result.run_requests) == [(first, latest)]

    unchanged = _evaluate(instance, demo.out_dir, cursor=result.cursor)
    assert unchanged.run_requests == []

    second = demo.closed_periods[1]
    _touch(demo.out_dir / "cost_pools" / f"cost_pools-{second}.parquet")
    corrected = _evaluate(instance, demo.out_dir, cursor=unchanged.cursor)
    assert _requested_ranges(corrected.run_requests) == [(second, second)]

    _touch(next((demo.out_dir / "customers").iterdir()))
    customers_changed = _evaluate(instance, demo.out_dir, cursor=corrected.cursor)
    assert _requested_ranges(customers_changed.run_requests) == [(latest, latest)]


def test_pools_of_the_open_month_add_its_partition_and_run_it(
    demo: DemoSummary, instance: DagsterInstance, tmp_path: Path
) -> None:
    landing = shutil.copytree(demo.out_dir, tmp_path / "landing")
    seen = _evaluate(instance, landing, cursor=None)
    pools_folder = landing / "cost_pools"
    latest_pools = pd.read_parquet(pools_folder / f"cost_pools-{demo.closed_periods[-1]}.parquet")
    latest_pools.assign(period=demo.open_period).to_parquet(
        pools_folder / f"cost_pools-{demo.open_period}.parquet", index=False
    )
    closed = _evaluate(instance, landing, cursor=seen.cursor)
    assert instance.get_dynamic_partitions(period_partitions.name)[-1] == demo.open_period
    assert _requested_ranges(closed.run_requests) == [(demo.open_period, demo.open_period)]


def test_the_sensor_waits_for_a_first_closed_period(
    instance: DagsterInstance, tmp_path: Path
) -> None:
    (tmp_path / "customers").mkdir()
    context = build_sensor_context(
        instance=instance, resources={"landing": LandingFolderResource(path=str(tmp_path))}
    )
    result = new_extracts_sensor(context)
    assert isinstance(result, SkipReason)
    assert "no closed period" in result.skip_message


def test_month_close_runs_the_month_just_ended_once_its_pools_landed(
    demo: DemoSummary, instance: DagsterInstance
) -> None:
    latest = demo.closed_periods[-1]  # 2026-10: the demo's pools end there
    resources = {"landing": LandingFolderResource(path=str(demo.out_dir))}
    after_latest = datetime(int(latest[:4]), int(latest[5:]) + 1, 3, 6)
    schedule = month_close_schedule(close_day=3)
    assert schedule.cron_schedule == "0 6 3 * *"
    # Each evaluation context entered with `with` (why: no_dagster_instance_left_current,
    # tests/conftest.py).
    with build_schedule_context(
        instance=instance, scheduled_execution_time=after_latest, resources=resources
    ) as context:
        request = schedule(context)
    assert isinstance(request, RunRequest) and request.partition_key == latest
    assert latest in instance.get_dynamic_partitions(period_partitions.name)

    a_month_later = datetime(
        after_latest.year + after_latest.month // 12, after_latest.month % 12 + 1, 3
    )
    with build_schedule_context(
        instance=instance, scheduled_execution_time=a_month_later, resources=resources
    ) as context:
        skipped = schedule(context)
    assert isinstance(skipped, SkipReason)
    assert f"{demo.open_period} has no cost pools" in skipped.skip_message


def test_changed_periods_become_one_run_per_unbroken_range() -> None:
    partitions = months_between("2025-11", "2026-04")
    assert partitions == ["2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04"]
    requests = period_range_run_requests(
        ["2026-03", "2025-11", "2026-02", "2025-12", "2027-01"], partitions
    )
    assert _requested_ranges(requests) == [("2025-11", "2025-12"), ("2026-02", "2026-03")]


def test_our_range_tags_are_the_ones_dagster_reads() -> None:
    # Dagster's own constants are private; the strings are what its backfill docs show.
    assert (PARTITION_RANGE_START_TAG, PARTITION_RANGE_END_TAG) == (
        ASSET_PARTITION_RANGE_START_TAG,
        ASSET_PARTITION_RANGE_END_TAG,
    )
