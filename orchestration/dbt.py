"""The dbt project as Dagster assets: one `dbt build` per run (models and their tests),
partitioned by period. A run over some periods passes them to dbt as the vars
period_from and period_to (the incremental models rebuild those periods and what
they changed, dbt_project/macros/incremental.sql), widened to the periods an unfinished
run left to rebuild (pipelines/mid_update.py); a run over every period is a
`--full-refresh`. Needs manifest.json at import (orchestration.dbt_project)."""

import json
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

from dagster import AssetExecutionContext, AssetSpec, FreshnessPolicy
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.dbt_project import oasis_dbt_project
from orchestration.partitions import one_run_per_range, period_partitions, run_period_scope
from orchestration.resources import WarehouseResource
from pipelines.mid_update import mid_updates

# How DuckDB's out-of-memory errors begin, in dbt's output.
OUT_OF_MEMORY = "Out of Memory Error"


class OasisDbtTranslator(DagsterDbtTranslator):
    """Adds what dbt's own config cannot say to Dagster: how old a model may get
    (`meta.oasis.max_age_days` in dbt_project.yml) before the UI shows it as stale."""

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        max_age_days = (
            self.get_resource_props(manifest, unique_id)
            .get("meta", {})
            .get("oasis", {})
            .get("max_age_days")
        )
        if max_age_days is None:
            return spec
        return spec.replace_attributes(
            freshness_policy=FreshnessPolicy.time_window(
                fail_window=timedelta(days=max_age_days),
                warn_window=timedelta(days=max_age_days - 3),
            )
        )


@dbt_assets(
    manifest=oasis_dbt_project.manifest_path,
    project=oasis_dbt_project,
    dagster_dbt_translator=OasisDbtTranslator(),
    partitions_def=period_partitions,
    backfill_policy=one_run_per_range,
)
def oasis_dbt_models(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    # Read for what unfinished runs left to rebuild, named in out-of-memory errors; requiring
    # it also makes a run of dbt models alone hold the warehouse lock.
    warehouse: WarehouseResource,
) -> Iterator[Any]:
    # Unit tests check the SQL, not the data: `make test` runs them, runs need not.
    command = ["build", "--exclude-resource-type", "unit_test"]
    with warehouse.connect(read_only=True) as connection:
        scope = run_period_scope(context, mid_updates(connection))
    if scope.is_every_period:
        command.append("--full-refresh")
    else:
        command += ["--vars", json.dumps({"period_from": scope.first, "period_to": scope.last})]
    context.log.info(f"dbt {' '.join(command)}")
    invocation = dbt.cli(command, context=context, raise_on_error=False)
    yield from invocation.stream()
    error = invocation.get_error()
    if error is None:
        return
    # dagster-dbt's error quotes dbt's errors, and DuckDB's tips name its own setting.
    text = str(error)
    if OUT_OF_MEMORY in text:
        raise warehouse.out_of_memory(text[text.index(OUT_OF_MEMORY) :]) from error
    raise error
