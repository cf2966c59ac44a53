"""Ingestion: one asset per contract table, loading the landing folder into `raw`.

Tables with a period (facts, pools, ledger) are partitioned by it: a run loads its
periods only (delete and insert of those periods), or the whole table when it covers
every period. customers and products have no period and load whole on every run.
Before it loads, a table with a period marks the warehouse mid-update with the run's
periods, and loads the periods an unfinished earlier run marked too
(pipelines/mid_update.py). After each load the table and the quarantine are
mirrored as Parquet beside the warehouse (pipelines/loader/raw_parquet.py), for engines
that do not read DuckDB."""

from pathlib import Path

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    asset,
)

from orchestration.partitions import one_run_per_range, period_partitions, run_period_scope
from orchestration.resources import LandingFolderResource, WarehouseResource
from pipelines.contract import LOAD_ORDER, PERIOD_TABLES, TABLES, Table
from pipelines.loader.load import load_table
from pipelines.loader.periods import landing_periods
from pipelines.loader.raw_parquet import mirror_raw_table
from pipelines.mid_update import mark_mid_update, mid_updates
from pipelines.sources.staging import label_quarantine


def erp_asset_key(table_name: str) -> AssetKey:
    """The key dagster-dbt gives the dbt source `erp.<table>`, so dbt models depend on it."""
    return AssetKey(["erp", table_name])


def _erp_extract_asset(table: Table) -> AssetsDefinition:
    parents = sorted({foreign_key.table for foreign_key in table.foreign_keys})
    has_period = table.name in PERIOD_TABLES

    @asset(
        key=erp_asset_key(table.name),
        deps=[erp_asset_key(parent) for parent in parents],
        group_name="ingest",
        kinds={"duckdb"},
        owners=["team:data-engineering"],
        partitions_def=period_partitions if has_period else None,
        backfill_policy=one_run_per_range if has_period else None,
        description=(
            f"raw.{table.name}: the `{table.name}` extracts of the landing folder, typed as "
            "CONTRACT.md says; bad records go to raw.quarantine with file, row, column and reason."
            + (" Partitioned by period." if has_period else " Loaded whole on every run.")
        ),
    )
    def load_extract(
        context: AssetExecutionContext,
        warehouse: WarehouseResource,
        landing: LandingFolderResource,
    ) -> MaterializeResult:
        with warehouse.connect() as connection:
            scope = None
            if has_period:
                scope = run_period_scope(context, mid_updates(connection))
                # Before the load: if another table then fails, the mark says what to rebuild.
                marked = None if scope.is_every_period else scope.periods
                mark_mid_update(connection, context.run_id, marked)
            periods = None
            if scope is not None and not scope.is_every_period:
                periods = list(scope.periods)
                if scope.reaches_latest_period:
                    periods += _waiting_periods(connection, Path(landing.path), table, scope.last)
            result = load_table(
                connection,
                Path(landing.path),
                table.name,
                company_currency=landing.company_currency or None,
                periods=periods,
            )
            # A staged database or mapped source: quarantine names its table and key.
            label_quarantine(connection, Path(landing.path), table.name)
            # Here, not in load_table: the quarantine's Parquet holds the names set above.
            mirror_raw_table(connection, Path(warehouse.path), table.name, periods)
        scope_text = "every period" if periods is None else ", ".join(periods)
        summary = (
            f"{table.name} ({scope_text}): {result.rows_loaded:,} rows loaded "
            f"from {len(result.files)} files"
        )
        if result.rows_quarantined:
            reasons = "; ".join(
                f"{n:,} {reason}" for reason, n in result.quarantine_reasons.items()
            )
            context.log.warning(f"{summary}, {result.rows_quarantined:,} quarantined ({reasons})")
        else:
            context.log.info(summary)
        return MaterializeResult(
            metadata={
                "files": len(result.files),
                "rows_read": result.rows_read,
                "rows_loaded": result.rows_loaded,
                "rows_quarantined": result.rows_quarantined,
                "rows_superseded_by_newer_files": result.superseded_rows,
            }
        )

    return load_extract


def _waiting_periods(
    connection: duckdb.DuckDBPyConnection, landing: Path, table: Table, latest_closed: str
) -> list[str]:
    """The periods after the latest closed one: their facts wait for cost pools, and
    the run of the latest closed period loads them so that the run report counts them."""
    held = landing_periods(connection, landing, [table.name]).get(table.name, set())
    return sorted(period for period in held if period > latest_closed)


erp_extract_assets = [_erp_extract_asset(TABLES[name]) for name in LOAD_ORDER]
