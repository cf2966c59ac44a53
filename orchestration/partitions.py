"""Monthly partitions: one per period from the first period in the extracts to the
latest closed one (a period with cost pools, METHOD.md). The landing sensor, the
month-close schedule and `oasis run` add the periods they find; a run covers one
period or a range of them (one dbt call per range), and a run over every period is a
full rebuild."""

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from dagster import AssetExecutionContext, BackfillPolicy, BetaWarning, DynamicPartitionsDefinition

from pipelines.mid_update import MidUpdate

period_partitions = DynamicPartitionsDefinition(name="period")

# The run tags of a single-run backfill over a range of partitions, as Dagster's docs on
# backfills spell them (the constants behind them live in a private module).
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"

# A backfill of a range is one run that loads and builds the range in one go. Dagster
# calls the policy beta and would warn once per partitioned asset at every start.
warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=BetaWarning)
one_run_per_range = BackfillPolicy.single_run()


@dataclass(frozen=True)
class PeriodScope:
    """What a run covers: its periods, and whether that is every period there is."""

    periods: tuple[str, ...]
    is_every_period: bool
    # Runs up to the latest closed period also load the facts waiting for pools after it.
    reaches_latest_period: bool

    @property
    def first(self) -> str:
        return self.periods[0]

    @property
    def last(self) -> str:
        return self.periods[-1]


def run_period_scope(
    context: AssetExecutionContext, repairing: Sequence[MidUpdate] = ()
) -> PeriodScope:
    """The run's periods, widened to those that unfinished runs left to rebuild
    (pipelines/mid_update.py), so that a run repairs what an earlier one left half-done."""
    every_period = context.instance.get_dynamic_partitions(period_partitions.name)
    wanted = set(context.partition_keys)
    for update in repairing:
        wanted |= set(every_period if update.periods is None else update.periods)
    periods = tuple(sorted(wanted))
    return PeriodScope(
        periods=periods,
        is_every_period=set(periods) >= set(every_period),
        reaches_latest_period=periods[-1] >= max(every_period),
    )
