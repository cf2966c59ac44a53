"""The dbt project as Dagster assets: one `dbt build` per run (models and their tests).
Needs manifest.json at import (orchestration.dbt_project.prepare_dbt_manifest)."""

from collections.abc import Iterator
from typing import Any

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.dbt_project import oasis_dbt_project


@dbt_assets(manifest=oasis_dbt_project.manifest_path, project=oasis_dbt_project)
def oasis_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    # Unit tests check the SQL, not the data: `make test` runs them, runs need not.
    yield from dbt.cli(["build", "--exclude-resource-type", "unit_test"], context=context).stream()
