"""End to end: the desert portal's product marts (METHOD.md, "The desert portal") on the
session's `oasis run` of the default demo (tests/conftest.py): Dagster assets of the
`portal` group, published after the audit, and following their rules on real data.
Each check recomputes its rule in DuckDB from the P&L or the marts it reads and
expects no row to break it."""

from __future__ import annotations

from pathlib import Path

import duckdb
from dagster import AssetKey

from tests.conftest import BuiltWarehouse

PORTAL_MARTS = (
    "product_rankings",
    "product_substitutes",
    "upsell_recommendations",
    "return_dispositions",
    "return_reason_alerts",
)
RETURNS_MIN_FOR_RULE = 5  # dbt var returns_min_for_rule
REASON_ALERT_RATIO = 3  # dbt var reason_alert_ratio
REASON_ALERT_MIN_RETURNS = 5  # dbt var reason_alert_min_returns


def _published(built_warehouse: BuiltWarehouse) -> Path:
    return built_warehouse.path.with_suffix(".published.duckdb")


def _as_of(built_warehouse: BuiltWarehouse) -> str:
    return built_warehouse.demo.closed_periods[-1]


def test_the_portal_marts_are_assets_of_the_portal_group_owned_by_commerce() -> None:
    # Imported once the session has prepared manifest.json: @dbt_assets reads it.
    from orchestration.definitions import defs

    specs = {spec.key: spec for spec in defs().resolve_all_asset_specs()}
    for mart in PORTAL_MARTS:
        spec = specs[AssetKey(["marts", mart])]
        assert spec.group_name == "portal", mart
        assert spec.owners == ["team:commerce"], mart


def test_the_portal_marts_are_published_for_the_latest_as_of_period(
    built_warehouse: BuiltWarehouse,
) -> None:
    as_of = _as_of(built_warehouse)
    with duckdb.connect(str(_published(built_warehouse)), read_only=True) as published:
        for mart in PORTAL_MARTS:
            rows = published.execute(
                f"select count(*) from marts.{mart} where as_of_period = ?", [as_of]
            ).fetchone()[0]
            assert rows > 0, mart


def test_rankings_put_sold_skus_first_by_profit_per_unit(built_warehouse: BuiltWarehouse) -> None:
    broken = built_warehouse.query(
        """
        with ordered as (
            select
                *,
                lag(ranked_by) over family as previous_ranked_by,
                lag(ranking_score) over family as previous_score,
                lag(sku) over family as previous_sku
            from marts.product_rankings
            window family as (partition by as_of_period, product_family order by rank_in_family)
        )
        select as_of_period, product_family, sku
        from ordered
        where (rank_in_family = 1) <> (previous_sku is null)
            or (ranked_by = 'sales') <> (units > 0)
            or (ranked_by = 'sales' and previous_ranked_by = 'list_margin')
            or (ranked_by = previous_ranked_by and (ranking_score > previous_score
                or (ranking_score = previous_score and sku < previous_sku)))
        """
    )
    assert broken == []


def test_upsell_starts_from_the_customers_most_bought_sku(built_warehouse: BuiltWarehouse) -> None:
    as_of = _as_of(built_warehouse)
    broken = built_warehouse.query(
        """
        with windows as (
            select period from intermediate.int_as_of_period_months where as_of_period = ?
        ),
        bought as (
            select pnl.customer_id, products.product_family, pnl.sku, sum(pnl.quantity) as units
            from marts.fct_invoice_line_pnl as pnl
            inner join staging.stg_erp__products as products on pnl.sku = products.sku
            where pnl.row_kind = 'invoice' and pnl.period in (select period from windows)
            group by all
        ),
        most_bought as (
            select * from bought
            qualify row_number() over (
                partition by customer_id, product_family order by units desc, sku
            ) = 1
        )
        select upsells.customer_id, upsells.product_family
        from marts.upsell_recommendations as upsells
        left join most_bought
            on upsells.customer_id = most_bought.customer_id
                and upsells.product_family = most_bought.product_family
        left join marts.customer_policy_flags as flags
            on upsells.customer_id = flags.customer_id and upsells.as_of_period = flags.as_of_period
        where upsells.as_of_period = ?
            and (most_bought.sku is distinct from upsells.current_sku
                or upsells.current_units <> most_bought.units
                or upsells.is_cross_sell_candidate <> coalesce(
                    flags.segment = 'profit_desert' and flags.quartile in (2, 3), false))
        """,
        [as_of, as_of],
    )
    assert broken == []


def test_dispositions_and_alerts_follow_their_figures(built_warehouse: BuiltWarehouse) -> None:
    dispositions = built_warehouse.query(
        """
        select recommended_disposition, rule_level, count(*)
        from marts.return_dispositions
        where (recommended_disposition = 'keep') <> (handling_cost_per_unit > recovery_per_unit)
            or (rule_level = 'family') <> (returns < ?)
            or abs(saving_per_unit - abs(handling_cost_per_unit - recovery_per_unit)) > 1e-9
        group by all
        """,
        [RETURNS_MIN_FOR_RULE],
    )
    assert dispositions == []
    alerts = built_warehouse.query(
        """
        select sku, reason_code
        from marts.return_reason_alerts
        where ratio < ? or returns < ?
            or (likely_fix = 'investigate') <> (reason_code not in
                ('unclear_instructions', 'defective', 'wrong_item', 'damaged'))
        """,
        [REASON_ALERT_RATIO, REASON_ALERT_MIN_RETURNS],
    )
    assert alerts == []
    # the demo's returns make both recommendations and both rule levels
    assert {
        row[:2]
        for row in built_warehouse.query(
            "select recommended_disposition, rule_level, count(*) from marts.return_dispositions"
            " where as_of_period = ? group by all",
            [_as_of(built_warehouse)],
        )
    } == {("keep", "sku"), ("keep", "family"), ("send_back", "sku"), ("send_back", "family")}
