"""The customer policy feed: published after the warehouse passed its checks."""

from datetime import UTC, datetime
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    ConfigurableResource,
    MaterializeResult,
    MetadataValue,
    asset,
)

from orchestration.resources import WarehouseResource
from pipelines.policy_feed import FEED_NAME, publish_policy_feed, read_policy_flags

POLICY_FLAGS = AssetKey(["marts", FEED_NAME])
# Materialized once the blocking data-quality checks have passed: the feed waits for it,
# so a run whose checks fail publishes nothing.
PUBLISHED_WAREHOUSE = AssetKey("published_warehouse")


class ExportsFolderResource(ConfigurableResource):
    """Where feeds for other systems are written (OASIS_EXPORTS)."""

    path: str


@asset(
    key=AssetKey("customer_policy_feed"),
    deps=[PUBLISHED_WAREHOUSE, POLICY_FLAGS],
    group_name="policies",
    owners=["team:commercial-policy"],
    kinds={"parquet", "csv"},
    description=(
        "exports/customer_policy_flags.{parquet,csv,jsonl}: the latest as-of period of the "
        "policy flags, with .changes files listing the customers whose policies changed "
        "since the previous publication (docs/policy_feed.md)."
    ),
)
def customer_policy_feed(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    exports: ExportsFolderResource,
) -> MaterializeResult:
    with warehouse.connect(read_only=True) as connection:
        flags = read_policy_flags(connection)
    publication = publish_policy_feed(
        Path(exports.path), flags, published_at=datetime.now(UTC), run_id=context.run_id
    )
    changes = ", ".join(f"{count} {kind}" for kind, count in publication.changes.items())
    context.log.info(
        f"Published the policy flags of {publication.as_of_period} for "
        f"{publication.customers:,} customers to {publication.folder} ({changes})."
    )
    return MaterializeResult(
        metadata={
            "as_of_period": publication.as_of_period,
            "customers": publication.customers,
            **{f"customers_{kind}": count for kind, count in publication.changes.items()},
            "previous_as_of_period": publication.previous_as_of_period or "",
            "folder": MetadataValue.path(str(publication.folder)),
        }
    )
