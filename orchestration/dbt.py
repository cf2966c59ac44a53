"""The dbt project as Dagster assets: one `dbt build` per run (models and their tests),
partitioned by period. A run over some periods hands them to dbt in the environment,
OASIS_PERIOD_FROM and OASIS_PERIOD_TO (the incremental models rebuild those periods and
what they changed, dbt_project/macros/incremental.sql), widened to the periods an
unfinished run left to rebuild (pipelines/mid_update.py); a run over every period is a
`--full-refresh`. Needs manifest.json at import (orchestration.dbt_project)."""

import json
import os
import shutil
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

from dagster import AssetCheckSpec, AssetExecutionContext, AssetSpec, FreshnessPolicy
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.dbt_project import oasis_dbt_project
from orchestration.partitions import one_run_per_range, period_partitions, run_period_scope
from orchestration.resources import WarehouseResource
from orchestration.warm_up import start_warm_up
from pipelines.method_settings import changed_since_last_build, read_method_settings, record_build
from pipelines.mid_update import mid_updates
from pipelines.spark_tables import copy_spark_tables

# How DuckDB's out-of-memory errors begin, in dbt's output.
OUT_OF_MEMORY = "Out of Memory Error"


def describe_dbt_test(test: Mapping[str, Any]) -> str | None:
    """The sentence the UI shows for a dbt data test: its own `description` when the YAML
    gives one; for a singular test, the first paragraph of its leading comment (where each
    of ours says what it proves); for a generic test, what it asserts, from its arguments."""
    if test.get("description"):
        return test["description"]
    metadata = test.get("test_metadata")
    if metadata is None:
        return _leading_comment(test.get("raw_code", ""))
    arguments = metadata.get("kwargs", {})
    column = f"`{arguments.get('column_name')}`"
    sentences = {
        "not_null": lambda: f"{column} is never null.",
        "unique": lambda: f"{column} is unique.",
        "accepted_values": lambda: (
            f"{column} is one of: " + ", ".join(str(value) for value in arguments["values"]) + "."
        ),
        "unique_combination_of_columns": lambda: (
            "One row per "
            + ", ".join(f"`{name}`" for name in arguments["combination_of_columns"])
            + "."
        ),
        "expression_is_true": lambda: (
            "Every row satisfies: " + " ".join(arguments["expression"].split())
        ),
    }
    sentence = sentences.get(metadata["name"])
    return sentence() if sentence else None


def describe_dbt_node(name: str) -> str | None:
    """The sentence of the dbt test (or model) called `name`, from manifest.json."""
    manifest = json.loads(oasis_dbt_project.manifest_path.read_text())
    for node in manifest["nodes"].values():
        if node["name"] == name:
            return describe_dbt_test(node) if node["resource_type"] == "test" else None
    return None


def _leading_comment(sql: str) -> str | None:
    """The comment lines before the first SQL line, past a leading `{{ config(...) }}`."""
    paragraph = []
    for line in sql.splitlines():
        if line.startswith("--"):
            paragraph.append(line.removeprefix("--").strip())
        elif paragraph or not (line.startswith("{{") or not line.strip()):
            break
    return " ".join(paragraph) or None


class OasisDbtTranslator(DagsterDbtTranslator):
    """Adds what dbt's own config cannot say to Dagster: how old a model may get
    (`meta.oasis.max_age_days` in dbt_project.yml) before the UI shows it as stale, and
    what each data test checks (dagster-dbt reads only `meta.description`, which none of
    the 114 tests sets: the UI said "No description provided")."""

    def get_asset_check_spec(
        self,
        asset_spec: AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return spec._replace(description=describe_dbt_test(manifest["nodes"][unique_id]))

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
    # Read for its settings file, what unfinished runs left to rebuild, and named in
    # out-of-memory errors; requiring it also makes a run of dbt models alone hold the
    # warehouse lock.
    warehouse: WarehouseResource,
) -> Iterator[Any]:
    # Unit tests check the SQL, not the data: `make test` runs them, runs need not.
    command = ["build", "--exclude-resource-type", "unit_test"]
    with warehouse.connect(read_only=True) as connection:
        scope = run_period_scope(context, mid_updates(connection))
    warehouse_path = Path(warehouse.path)
    settings = read_method_settings(warehouse_path)
    changed = changed_since_last_build(warehouse_path, settings)
    if changed:
        context.log.info(
            f"The method's settings changed since the last build ({'; '.join(changed)}): "
            "every period is rebuilt."
        )
    # The periods go in the environment, not in --vars: dbt parses the whole project again
    # whenever its vars differ from those of the last parse (13.7 s against 5.3 s, 50
    # customers), and every monthly run has periods of its own.
    periods = {}
    # Spark's Parquet tables cannot delete a period's rows: every Spark run is a full build
    # (dbt_project/macros/spark.sql).
    if scope.is_every_period or changed or warehouse.engine == "spark":
        command += ["--full-refresh"]
    else:
        periods = {"OASIS_PERIOD_FROM": scope.first, "OASIS_PERIOD_TO": scope.last}
    command += ["--vars", json.dumps(settings)]
    context.log.info(
        f"dbt {' '.join(command)}" + "".join(f" {name}={value}" for name, value in periods.items())
    )
    # dagster-dbt starts dbt with a copy of this environment (DbtCliResource.cli takes none
    # of its own); the steps run one at a time on one thread, so nothing else reads it.
    # The steps after this one load their libraries while dbt works (orchestration/warm_up.py).
    start_warm_up()
    with patch.dict(os.environ, periods):
        invocation = dbt.cli(command, context=context, raise_on_error=False)
    yield from invocation.stream()
    error = invocation.get_error()
    if error is None:
        if warehouse.engine == "spark":
            with warehouse.connect() as connection:
                copied = copy_spark_tables(connection, warehouse_path)
            context.log.info(f"Copied the {len(copied)} tables Spark built into the warehouse.")
        record_build(warehouse_path, settings)
        # dagster-dbt gives each invocation a target folder of its own (compiled SQL, run
        # results, dbt.log: 2-10 MB a run, and month after month they add up); a failed
        # build keeps its folder for whoever looks into the failure.
        shutil.rmtree(invocation.target_path, ignore_errors=True)
        return
    # dagster-dbt's error quotes dbt's errors, and DuckDB's tips name its own setting.
    text = str(error)
    if OUT_OF_MEMORY in text:
        raise warehouse.out_of_memory(text[text.index(OUT_OF_MEMORY) :]) from error
    raise error
