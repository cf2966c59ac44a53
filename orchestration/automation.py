"""What starts runs besides people: a sensor on the landing folder and the month-close
schedule. Both read the landing folder only (never the warehouse, which a running job
may hold), add the periods they find as partitions (first period in the extracts to
the latest closed one), and request runs of `oasis_build` for the periods that need one."""

import json
import os
from collections.abc import Iterable
from datetime import datetime

from dagster import (
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    schedule,
    sensor,
)

from orchestration.partitions import (
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    period_partitions,
)
from orchestration.resources import LandingFolderResource
from pipelines.landing import LandingScan, landing_scan
from pipelines.settings import resolve_settings

# The job every run starts (orchestration/definitions.py): all assets, for a range of periods.
JOB_NAME = "oasis_build"


def partition_periods(scan: LandingScan) -> list[str]:
    """Every month from the first period in the extracts to the latest closed one."""
    if not scan.closed_periods:
        return []
    return months_between(min(scan.periods), max(scan.closed_periods))


def months_between(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    periods = []
    while f"{year:04d}-{month:02d}" <= last:
        periods.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return periods


def period_range_run_requests(periods: Iterable[str], partitions: list[str]) -> list[RunRequest]:
    """One run per unbroken range of partitions: one dbt call per range."""
    position = {period: index for index, period in enumerate(partitions)}
    ranges: list[list[str]] = []
    for period in sorted(set(periods) & set(partitions)):
        if ranges and position[period] == position[ranges[-1][-1]] + 1:
            ranges[-1].append(period)
        else:
            ranges.append([period])
    return [
        RunRequest(
            partition_key=span[0],
            tags={
                PARTITION_RANGE_START_TAG: span[0],
                PARTITION_RANGE_END_TAG: span[-1],
            },
        )
        if len(span) > 1
        else RunRequest(partition_key=span[0])
        for span in ranges
    ]


@sensor(
    job_name=JOB_NAME,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED,
    description=(
        "Watches the landing folder. Files that are new or changed (by path, size and "
        "modification time, kept in the cursor) request a run of the closed periods they "
        "hold; a changed customers or products file requests the latest closed period. "
        "A database source: the periods whose row count or latest update changed (one "
        "aggregate query per table) are staged and run (docs/sources.md)."
    ),
)
def new_extracts_sensor(
    context: SensorEvaluationContext, landing: LandingFolderResource
) -> SensorResult | SkipReason:
    settings = resolve_settings(os.environ)
    if settings.origin is not None and settings.origin.startswith(("postgresql:", "postgres:")):
        return _database_tick(context, settings, landing)
    scan = landing.scan()
    partitions = partition_periods(scan)
    if not partitions:
        return SkipReason(f"no closed period (no cost pools) in {landing.path} yet")
    seen = json.loads(context.cursor) if context.cursor else {}
    changed = scan.changed_periods_since(seen)
    new_partitions = sorted(
        set(partitions) - set(context.instance.get_dynamic_partitions(period_partitions.name))
    )
    return SensorResult(
        run_requests=period_range_run_requests(changed, partitions),
        dynamic_partitions_requests=[period_partitions.build_add_request(new_partitions)],
        cursor=json.dumps(scan.fingerprints()),
    )


def _database_tick(
    context: SensorEvaluationContext, settings, landing: LandingFolderResource
) -> SensorResult | SkipReason:
    """A database source: one aggregate query per table (rows and latest update per
    period, the cursor keeps them); the periods that moved are staged and run."""
    from pipelines.sources.mapping import read_mapping
    from pipelines.sources.readers import DatabaseReader
    from pipelines.sources.staging import (
        changed_periods_in_source,
        source_fingerprints,
        stage_source,
    )

    mapping = read_mapping(settings.mapping) if settings.mapping else {}
    reader = DatabaseReader(settings.origin)
    try:
        now = source_fingerprints(reader, mapping, settings.source_files)
        seen = json.loads(context.cursor) if context.cursor else {}
        earlier = seen.get("database", {})
        scan = landing.scan()
        latest = max(scan.closed_periods) if scan.closed_periods else None
        changed = changed_periods_in_source(earlier, now, latest)
        if changed or not scan.periods:
            staged_periods = None if not scan.periods else sorted(changed)
            stage_source(
                reader,
                mapping,
                settings.source,
                periods=staged_periods,
                files=settings.source_files,
            )
            scan = landing.scan()
    finally:
        reader.close()
    partitions = partition_periods(scan)
    if not partitions:
        return SkipReason(f"no closed period (no cost pools) in {reader.label} yet")
    # The files beside the database (cost pools, the ledger) are watched as files are.
    files = landing_scan(settings.source_files) if settings.source_files else None
    if files is not None:
        changed |= files.changed_periods_since(seen.get("files", {}))
    new_partitions = sorted(
        set(partitions) - set(context.instance.get_dynamic_partitions(period_partitions.name))
    )
    return SensorResult(
        run_requests=period_range_run_requests(changed, partitions),
        dynamic_partitions_requests=[period_partitions.build_add_request(new_partitions)],
        cursor=json.dumps({"database": now, "files": files.fingerprints() if files else {}}),
    )


def month_close_schedule(close_day: int) -> ScheduleDefinition:
    """The month-close schedule, at 06:00 UTC on day `close_day` (OASIS_MONTH_CLOSE_DAY,
    read by orchestration/definitions.py when Dagster loads the definitions, not at import)."""

    @schedule(
        name="month_close_schedule",
        job_name=JOB_NAME,
        cron_schedule=f"0 6 {close_day} * *",
        default_status=DefaultScheduleStatus.STOPPED,
        description=(
            "Month close: on day OASIS_MONTH_CLOSE_DAY of each month, runs the month that "
            "just ended, once its cost pools have landed."
        ),
    )
    def month_close(
        context: ScheduleEvaluationContext, landing: LandingFolderResource
    ) -> RunRequest | SkipReason:
        tick = context.scheduled_execution_time or datetime.now()
        year, month = (tick.year - 1, 12) if tick.month == 1 else (tick.year, tick.month - 1)
        closing = f"{year:04d}-{month:02d}"
        scan = landing.scan()
        if closing not in scan.closed_periods:
            return SkipReason(
                f"{closing} has no cost pools in {landing.path} yet: its facts wait "
                "(the landing sensor runs it when they arrive)"
            )
        context.instance.add_dynamic_partitions(period_partitions.name, partition_periods(scan))
        return RunRequest(run_key=f"month-close-{closing}", partition_key=closing)

    return month_close
