"""The lineage graph a newcomer sees: groups, owners, partitions and freshness."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from dagster import AssetKey, AssetSpec, Definitions

from orchestration.partitions import period_partitions
from orchestration.resources import WAREHOUSE_RUN_TAG


@pytest.fixture(scope="module")
def defs() -> Definitions:
    # Imported once the session has prepared manifest.json: @dbt_assets reads it.
    from orchestration.definitions import defs

    return defs()


def _specs(defs: Definitions) -> dict[AssetKey, AssetSpec]:
    return {spec.key: spec for spec in defs.resolve_all_asset_specs()}


def test_every_asset_has_a_group_an_owner_and_a_description(defs: Definitions) -> None:
    specs = _specs(defs)
    assert {spec.group_name for spec in specs.values()} == {
        "ingest",
        "pnl",
        "customers",
        "policies",
        "portal",
        "team",
        "dimensions",
        "audit",
        "reports",
        "publish",
    }
    assert [key for key, spec in specs.items() if not spec.owners] == []
    assert [key for key, spec in specs.items() if not spec.description] == []


def test_facts_and_models_are_partitioned_by_period_and_dimensions_are_not(
    defs: Definitions,
) -> None:
    specs = _specs(defs)
    assert specs[AssetKey(["erp", "invoice_lines"])].partitions_def == period_partitions
    assert specs[AssetKey(["marts", "fct_invoice_line_pnl"])].partitions_def == period_partitions
    assert specs[AssetKey(["erp", "customers"])].partitions_def is None
    assert specs[AssetKey("published_warehouse")].partitions_def is None


def test_the_cost_drivers_seed_is_an_asset_upstream_of_the_models_that_read_it(
    defs: Definitions,
) -> None:
    # The driver macros read the seed as a model compiles: the dependency is what makes
    # `dbt build` (every run, whole months or one) load the seed before those models.
    specs = _specs(defs)
    seed = specs[AssetKey(["intermediate", "cost_drivers"])]
    assert (seed.group_name, seed.owners) == ("pnl", ["team:data-engineering"])
    for model in (["marts", "fct_invoice_line_pnl"], ["marts", "price_waterfall"]):
        assert seed.key in {dep.asset_key for dep in specs[AssetKey(model)].deps}, model


def test_every_mart_says_how_old_it_may_get(defs: Definitions) -> None:
    marts = {key: spec for key, spec in _specs(defs).items() if key.path[0] == "marts"}
    assert len(marts) > 10
    for key, spec in marts.items():
        assert spec.freshness_policy is not None, key
        assert spec.freshness_policy.fail_window.to_timedelta() == timedelta(days=35), key


def test_the_job_carries_the_warehouse_for_the_run_queue(defs: Definitions) -> None:
    job = defs.resolve_job_def("oasis_build")
    assert job.tags[WAREHOUSE_RUN_TAG].endswith(".duckdb")


def test_every_dbt_data_test_is_an_asset_check_with_a_sentence(defs: Definitions) -> None:
    # A dbt test that is no asset check runs by dbt's indirect selection and reaches the
    # UI only as an observation, with a warning in every run's log.
    from orchestration.dbt import oasis_dbt_models
    from orchestration.dbt_project import oasis_dbt_project

    manifest = json.loads(oasis_dbt_project.manifest_path.read_text())
    data_tests = {
        node["name"] for node in manifest["nodes"].values() if node["resource_type"] == "test"
    }
    checks = {spec.name: spec for spec in oasis_dbt_models.check_specs}
    assert sorted(data_tests - set(checks)) == []
    assert [name for name, spec in checks.items() if not spec.description] == []
    pools = checks["audit_pool_conservation_every_pool_to_the_cent"].description
    assert pools.startswith("Every pool of every closed period leaves on some row")


def test_a_generic_test_is_described_by_what_it_asserts() -> None:
    from orchestration.dbt import describe_dbt_test

    def generic(name: str, **arguments) -> dict:
        return {"test_metadata": {"name": name, "kwargs": arguments}}

    assert describe_dbt_test(generic("not_null", column_name="sku")) == "`sku` is never null."
    assert (
        describe_dbt_test(generic("accepted_values", column_name="quartile", values=[1, 2]))
        == "`quartile` is one of: 1, 2."
    )
    assert (
        describe_dbt_test(
            generic("unique_combination_of_columns", combination_of_columns=["a", "b"])
        )
        == "One row per `a`, `b`."
    )
    assert describe_dbt_test({"description": "Own words.", **generic("unique")}) == "Own words."
