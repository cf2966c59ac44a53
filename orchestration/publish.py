"""Publication: the published warehouse, the Parquet marts and the feeds, together or not at all.

After a clean audit, BI tools get `<warehouse>.published.duckdb` and `exports/marts/`
(Parquet), pricing, commerce and sales systems the policy feed in exports/ and the commerce
site the portal feeds in exports/portal/. All come from the same marts, so one step writes
them to temporary names beside their final ones and renames them over the old ones only
when all are written (pipelines/publication.py): with an exports folder that cannot be
written, the run fails and the published copy keeps its previous version. One step, several
assets: Dagster materializes them together or not at all (no subset).
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

from orchestration.checks import AUDITED_WAREHOUSE
from orchestration.resources import (
    ExportsFolderResource,
    LandingFolderResource,
    WarehouseResource,
)
from pipelines.feeds import read_feed, stage_feed
from pipelines.landing import input_checksums
from pipelines.parquet_marts import stage_parquet_marts
from pipelines.policy_feed import FEED_NAME, POLICY_FEED
from pipelines.portal_feeds import PORTAL_FEEDS
from pipelines.published_warehouse import (
    PUBLISHED_STORAGE_VERSION,
    stage_audited_snapshot,
    stage_marts,
)

PUBLISHED_WAREHOUSE = AssetKey("published_warehouse")
PARQUET_MARTS = AssetKey("parquet_marts")
CUSTOMER_POLICY_FEED = AssetKey("customer_policy_feed")
POLICY_FLAGS = AssetKey(["marts", FEED_NAME])
PORTAL_FOLDER = "portal"


def portal_feed_key(mart: str) -> AssetKey:
    return AssetKey(["portal_feed", mart])


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
                "only after the audit passed and together with the feeds. Readable by "
                "DuckDB 1.4 and later. The audit trail marts.fct_cost_allocations is a view "
                "there over copies of the two intermediate tables it reads."
            ),
        ),
        AssetSpec(
            PARQUET_MARTS,
            deps=[AUDITED_WAREHOUSE],
            group_name="publish",
            owners=["team:data-engineering"],
            kinds={"parquet"},
            description=(
                "exports/marts/<mart>/: every mart as Parquet for BI tools that do not read "
                "DuckDB (the P&L and the audit trail partitioned by period), switched "
                "atomically with the published warehouse (docs/parquet_marts.md)."
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
        *(
            AssetSpec(
                portal_feed_key(feed.mart),
                deps=[PUBLISHED_WAREHOUSE, AssetKey(["marts", feed.mart])],
                group_name="portal",
                owners=["team:commerce"],
                kinds={"parquet", "csv"},
                description=(
                    f"exports/portal/{feed.name}.{{parquet,csv,jsonl}}: the latest as-of "
                    f"period of marts.{feed.mart} for the commerce site, with .changes files "
                    "(docs/portal_feed.md). Published together with the published warehouse."
                ),
            )
            for feed in PORTAL_FEEDS
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
        exports_folder = Path(exports.path)
        with warehouse.connect(read_only=True) as connection:
            flags = read_feed(connection, POLICY_FEED)
            # Every feed of one publication is of the policy flags' as-of period.
            as_of_period = flags["as_of_period"][0].as_py() if flags.num_rows else None
            portal_rows = [read_feed(connection, portal, as_of_period) for portal in PORTAL_FEEDS]
        stage = partial(
            stage_feed,
            published_at=datetime.now(UTC),
            run_id=context.run_id,
            warehouse=Path(warehouse.path),
            inputs=partial(input_checksums, Path(landing.path)),
            as_of_period=as_of_period,
        )
        try:
            feed, staged_feed = stage(POLICY_FEED, exports_folder, flags)
            staged.extend(staged_feed)
            portal = []
            for portal_feed, rows in zip(PORTAL_FEEDS, portal_rows, strict=True):
                published, staged_feed = stage(portal_feed, exports_folder / PORTAL_FOLDER, rows)
                portal.append(published)
                staged.extend(staged_feed)
            parquet, staged_parquet = stage_parquet_marts(
                Path(warehouse.path), exports_folder, context.run_id, warehouse.duckdb_config
            )
            staged.extend(staged_parquet)
        except OSError as error:
            raise Failure(
                f"cannot write the feeds or Parquet marts to {exports.path} ({error}): nothing "
                f"is published, {marts.path} keeps its previous version. Make the exports "
                "folder (OASIS_EXPORTS) writable and run again."
            ) from error
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
        f"Published the policy flags of {feed.as_of_period} for {feed.records:,} customers "
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
    context.log.info(
        f"Published {len(parquet.rows)} marts as Parquet to {parquet.version} "
        f"({parquet.bytes:,} bytes; {parquet.parts_linked} of {parquet.parts} files and "
        f"period folders unchanged, hard-linked from the version before), linked from "
        f"{parquet.link}."
    )
    yield MaterializeResult(
        asset_key=PARQUET_MARTS,
        metadata={
            "folder": MetadataValue.path(str(parquet.version)),
            "rows": MetadataValue.json(parquet.rows),
            "bytes": parquet.bytes,
            "parts": parquet.parts,
            "parts_linked": parquet.parts_linked,
        },
    )
    for published in portal:
        yield MaterializeResult(
            asset_key=portal_feed_key(published.feed),
            metadata={
                "as_of_period": published.as_of_period,
                "records": published.records,
                **{f"records_{kind}": count for kind, count in published.changes.items()},
                "previous_as_of_period": published.previous_as_of_period or "",
                "folder": MetadataValue.path(str(published.folder)),
            },
        )
    yield MaterializeResult(
        asset_key=CUSTOMER_POLICY_FEED,
        metadata={
            "as_of_period": feed.as_of_period,
            "customers": feed.records,
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
