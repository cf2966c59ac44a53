"""The customer policy feed: the latest as-of period of marts.customer_policy_flags as files
that pricing, commerce and sales systems read, with the customers whose policies changed
since the previous publication (docs/policy_feed.md). Declared here, written by the one feed
writer (pipelines/feeds.py); the functions below keep this feed's own names for its callers.

    customer_policy_flags.parquet|.csv|.jsonl           the latest as-of period, every customer
    customer_policy_flags.changes.parquet|.csv|.jsonl   customers added, changed or removed
    customer_policy_flags.previous.parquet              the publication the changes compare with
    customer_policy_flags.manifest.json                 schema version, as-of period, counts
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines import feeds
from pipelines.feeds import EmptyFeed, Feed, FeedPublication
from pipelines.publication import StagedFiles

__all__ = ["EmptyFeed", "FeedPublication"]

SCHEMA_VERSION = "1.0"
FEED_NAME = "customer_policy_flags"

# What a downstream system acts on. Segment, quartile and the reasons' numbers move every
# month without a policy changing, so they do not make a customer "changed".
POLICY_COLUMNS = (
    "no_discounts",
    "min_order_value",
    "charge_freight",
    "charge_expedite",
    "restocking_fee_pct",
    "extra_order_cycle_days",
    "is_growth_prospect",
    "is_lifetime_exempt",
    "exemption",
    "is_cross_sell_candidate",
    "is_value_destroyer",
    "is_service_abuser",
    "is_return_abuser",
    "recommended_action",
)

# MARTS.md's customer_policy_flags plus `exemption`, in order.
POLICY_FEED = Feed(
    name=FEED_NAME,
    mart=FEED_NAME,
    key=("customer_id",),
    change_columns=POLICY_COLUMNS,
    columns=pa.schema(
        [
            ("customer_id", pa.string()),
            ("segment", pa.string()),
            ("quartile", pa.int32()),
            ("no_discounts", pa.bool_()),
            ("min_order_value", pa.decimal128(18, 2)),
            ("charge_freight", pa.bool_()),
            ("charge_expedite", pa.bool_()),
            ("restocking_fee_pct", pa.float64()),
            ("extra_order_cycle_days", pa.int32()),
            ("is_growth_prospect", pa.bool_()),
            ("is_lifetime_exempt", pa.bool_()),
            ("exemption", pa.string()),
            ("is_cross_sell_candidate", pa.bool_()),
            ("is_value_destroyer", pa.bool_()),
            ("is_service_abuser", pa.bool_()),
            ("is_return_abuser", pa.bool_()),
            ("recommended_action", pa.string()),
            ("reasons", pa.string()),
        ]
    ),
    schema_version=SCHEMA_VERSION,
    record_noun="customers",
)
FEED_SCHEMA = POLICY_FEED.schema
CHANGES_SCHEMA = POLICY_FEED.changes_schema


def read_policy_flags(
    connection: duckdb.DuckDBPyConnection, as_of_period: str | None = None
) -> pa.Table:
    """The flags of the latest as-of period (or of `as_of_period`), in the feed's columns."""
    return feeds.read_feed(connection, POLICY_FEED, as_of_period)


def to_feed_table(table: pa.Table) -> pa.Table:
    return feeds.to_feed_table(POLICY_FEED, table)


def compute_changes(previous: pa.Table | None, current: pa.Table) -> pa.Table:
    return feeds.compute_changes(POLICY_FEED, previous, current)


def publish_policy_feed(
    folder: Path, flags: pa.Table, *, published_at: datetime, run_id: str | None = None
) -> FeedPublication:
    """Refuses an empty feed: it would mark every customer as removed."""
    return feeds.publish_feed(POLICY_FEED, folder, flags, published_at=published_at, run_id=run_id)


def stage_policy_feed(
    folder: Path, flags: pa.Table, **options
) -> tuple[FeedPublication, StagedFiles]:
    return feeds.stage_feed(POLICY_FEED, folder, flags, **options)
