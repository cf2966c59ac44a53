"""Publication: the published warehouse and the policy feed, together or not at all.

After a clean audit, BI tools get `<warehouse>.published.duckdb` and pricing, commerce and
sales systems the feed in exports/. Both come from the same marts, so one step writes
both to temporary names beside their final ones and renames them over the old ones only
when both are written (pipelines/publication.py): with an exports folder that cannot be
written, the run fails and the published copy keeps its previous version. Two assets,
one step: Dagster materializes them together or not at all (no subset).
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Failure,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from orchestration.checks import (
    AUDITED_WAREHOUSE,
    PUBLISHED_STORAGE_VERSION,
    stage_audited_snapshot,
    stage_marts,
)
from orchestration.resources import (
    ExportsFolderResource,
    LandingFolderResource,
    WarehouseResource,
)
from pipelines.landing import input_checksums
from pipelines.policy_feed import FEED_NAME, read_policy_flags, stage_policy_feed

PUBLISHED_WAREHOUSE = AssetKey("published_warehouse")
CUSTOMER_POLICY_FEED = AssetKey("customer_policy_feed")
POLICY_FLAGS = AssetKey(["marts", FEED_NAME])


@multi_asset(
    name="publication",
    specs=[
        AssetSpec(
            PUBLISHED_WAREHOUSE,
            deps=[AUDITED_WAREHOUSE],
            group_name="publish",
            owners=["team:data-engineering"],
            kinds={"duckdb"},
            description=(
                "<warehouse>.published.duckdb: the marts as tables, for BI tools, replaced "
                "only after the audit passed and together with the policy feed. Readable by "
                "DuckDB 1.4 and later. The audit trail view marts.fct_cost_allocations stays in "
                "the working warehouse (stored, it would be ~13 rows per P&L row)."
            ),
        ),
        AssetSpec(
            CUSTOMER_POLICY_FEED,
            deps=[PUBLISHED_WAREHOUSE, POLICY_FLAGS],
            group_name="policies",
            owners=["team:commercial-policy"],
            kinds={"parquet", "csv"},
            description=(
                "exports/customer_policy_flags.{parquet,csv,jsonl}: the latest as-of period of "
                "the policy flags, with .changes files listing the customers whose policies "
                "changed since the previous publication (docs/policy_feed.md). Published "
                "together with the published warehouse."
            ),
        ),
    ],
)
def publication(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    exports: ExportsFolderResource,
    landing: LandingFolderResource,
) -> Iterator[MaterializeResult]:
    _require_audit_of_this_run(context)
    marts, staged = stage_marts(Path(warehouse.path), context.run_id, warehouse.duckdb_config)
    try:
        with warehouse.connect(read_only=True) as connection:
            flags = read_policy_flags(connection)
        try:
            feed, staged_feed = stage_policy_feed(
                Path(exports.path),
                flags,
                published_at=datetime.now(UTC),
                run_id=context.run_id,
                warehouse=Path(warehouse.path),
                inputs=partial(input_checksums, Path(landing.path)),
            )
        except OSError as error:
            raise Failure(
                f"cannot write the policy feed to {exports.path} ({error}): nothing is "
                f"published, {marts.path} keeps its previous version. Make the exports folder "
                "(OASIS_EXPORTS) writable and run again."
            ) from error
        staged.extend(staged_feed)
        staged.extend(stage_audited_snapshot(Path(warehouse.path), context.run_id))
    except BaseException:
        staged.discard()
        raise
    staged.commit()

    context.log.info(
        f"Published {len(marts.tables)} marts to {marts.path} ({sum(marts.tables.values()):,} rows)"
    )
    changes = ", ".join(f"{count} {kind}" for kind, count in feed.changes.items())
    context.log.info(
        f"Published the policy flags of {feed.as_of_period} for {feed.customers:,} customers "
        f"to {feed.folder} ({changes})."
    )
    yield MaterializeResult(
        asset_key=PUBLISHED_WAREHOUSE,
        metadata={
            "path": MetadataValue.path(str(marts.path)),
            "tables": MetadataValue.json(marts.tables),
            "storage_version": PUBLISHED_STORAGE_VERSION,
        },
    )
    yield MaterializeResult(
        asset_key=CUSTOMER_POLICY_FEED,
        metadata={
            "as_of_period": feed.as_of_period,
            "customers": feed.customers,
            **{f"customers_{kind}": count for kind, count in feed.changes.items()},
            "previous_as_of_period": feed.previous_as_of_period or "",
            "folder": MetadataValue.path(str(feed.folder)),
        },
    )


def _require_audit_of_this_run(context: AssetExecutionContext) -> None:
    """Publishing alone (say, from the UI) would skip the audit: refuse it."""
    latest = context.instance.get_latest_materialization_event(AUDITED_WAREHOUSE)
    materialization = latest.asset_materialization if latest else None
    errors = materialization.metadata.get("errors") if materialization else None
    if latest is None or latest.run_id != context.run_id:
        raise Failure(
            "the publication publishes only what the same run audited: materialize "
            "audited_warehouse together with it."
        )
    if errors is None or errors.value != 0:
        raise Failure("the audit of this run found errors: nothing is published.")
