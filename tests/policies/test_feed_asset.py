"""The feed in Dagster: it waits for the published (audited) warehouse and the flags, and
the policy models form their own group."""

from __future__ import annotations

from dagster import AssetKey

from tests.conftest import BuiltWarehouse

POLICY_MARTS = ("customer_policy_flags", "rep_overrides", "let_go_scenarios")


def _asset_graph():
    # @dbt_assets reads manifest.json at import: the fixture's `oasis run` prepared it.
    from orchestration.definitions import defs

    return defs().resolve_asset_graph()


def test_the_feed_is_published_only_after_the_warehouse_passed_its_checks(
    long_demo_warehouse: BuiltWarehouse,
) -> None:
    feed = _asset_graph().get(AssetKey("customer_policy_feed"))
    assert AssetKey("published_warehouse") in feed.parent_keys
    assert AssetKey(["marts", "customer_policy_flags"]) in feed.parent_keys


def test_policy_models_and_the_feed_are_in_the_policies_group(
    long_demo_warehouse: BuiltWarehouse,
) -> None:
    graph = _asset_graph()
    keys = [AssetKey(["marts", name]) for name in POLICY_MARTS]
    keys.append(AssetKey("customer_policy_feed"))
    assert {key: graph.get(key).group_name for key in keys} == dict.fromkeys(keys, "policies")
