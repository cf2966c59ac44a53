"""Ingestion: one asset per contract table, loading the landing folder into `raw`."""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, asset

from orchestration.resources import LandingFolderResource, WarehouseResource
from pipelines.contract import LOAD_ORDER, TABLES, Table
from pipelines.extract_loader import load_table


def erp_asset_key(table_name: str) -> AssetKey:
    """The key dagster-dbt gives the dbt source `erp.<table>`, so dbt models depend on it."""
    return AssetKey(["erp", table_name])


def _erp_extract_asset(table: Table) -> AssetsDefinition:
    parents = sorted({foreign_key.table for foreign_key in table.foreign_keys})

    @asset(
        key=erp_asset_key(table.name),
        deps=[erp_asset_key(parent) for parent in parents],
        group_name="ingest",
        kinds={"duckdb"},
        description=(
            f"raw.{table.name}: the `{table.name}` extracts of the landing folder, typed as "
            "CONTRACT.md says; bad records go to raw.quarantine with file, row, column and reason."
        ),
    )
    def load_extract(
        context: AssetExecutionContext,
        warehouse: WarehouseResource,
        landing: LandingFolderResource,
    ) -> MaterializeResult:
        with warehouse.connect() as connection:
            result = load_table(
                connection,
                Path(landing.path),
                table.name,
                company_currency=landing.company_currency or None,
            )
        summary = f"{table.name}: {result.rows_loaded:,} rows loaded from {len(result.files)} files"
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


erp_extract_assets = [_erp_extract_asset(TABLES[name]) for name in LOAD_ORDER]
