"""The cross-sell basket model, its quality and the desert team marts on the default demo,
built by the real `oasis run` (dbt, DuckDB, Dagster): what they say is checked against
the P&L and the extracts, computed here a second way, and against the run's summary."""

from __future__ import annotations

import re

from pipelines.published_warehouse import published_path
from tests.conftest import BuiltWarehouse

CENT = 0.005


def _latest_as_of(built: BuiltWarehouse) -> str:
    return built.scalar("select max(as_of_period) from marts.customer_segments")


def test_the_run_summary_prints_the_latest_hit_rate_against_the_baseline(
    built_warehouse: BuiltWarehouse,
) -> None:
    match = re.search(
        r"^Cross-sell model: (\d+)% of ([\d,]+) customers bought a recommended family "
        r"within (\d+) months \(popularity baseline (\d+)%\)\.$",
        built_warehouse.run_output,
        re.MULTILINE,
    )
    assert match, built_warehouse.run_output
    evaluated, hit_rate, baseline = built_warehouse.query(
        """
        select customers_evaluated, hit_rate, baseline_hit_rate
        from marts.cross_sell_model_quality
        where as_of_period = (select max(as_of_period) from marts.customer_segments)
        """
    )[0]
    assert int(match[2].replace(",", "")) == evaluated > 0
    assert int(match[1]) == round(hit_rate * 100)
    assert int(match[4]) == round(baseline * 100)
    assert int(match[3]) == 6


def test_recommendations_are_families_the_customer_did_not_buy_in_the_window(
    built_warehouse: BuiltWarehouse,
) -> None:
    as_of = _latest_as_of(built_warehouse)
    # Purchases straight from the P&L's invoice rows of the 12 months to the as-of period.
    bought_anyway = built_warehouse.scalar(
        """
        select count(*)
        from marts.cross_sell_recommendations as recommendations
        where recommendations.as_of_period = ?
            and exists (
                select 1
                from marts.fct_invoice_line_pnl as pnl
                inner join staging.stg_erp__products as products on pnl.sku = products.sku
                where pnl.row_kind = 'invoice'
                    and pnl.customer_id = recommendations.customer_id
                    and products.product_family = recommendations.product_family
                    and date_diff('month', strptime(pnl.period, '%Y-%m'), strptime(?, '%Y-%m'))
                        between 0 and 11
            )
        """,
        [as_of, as_of],
    )
    assert bought_anyway == 0
    customers, per_customer_max, wrong_flags, segments = built_warehouse.query(
        """
        select
            count(distinct recommendations.customer_id),
            max(recommendations.recommendation_rank),
            count(*) filter (
                where recommendations.is_cross_sell_candidate
                    != (flags.segment = 'profit_desert' and flags.quartile in (2, 3))
            ),
            count(distinct flags.segment)
        from marts.cross_sell_recommendations as recommendations
        inner join marts.customer_policy_flags as flags
            on recommendations.customer_id = flags.customer_id
                and recommendations.as_of_period = flags.as_of_period
        where recommendations.as_of_period = ?
        """,
        [as_of],
    )[0]
    assert customers > 0
    assert per_customer_max == 5
    assert wrong_flags == 0
    # Every segment gets recommendations, not only the middle desert quartiles.
    assert segments == 3


def test_rep_workload_frees_the_sales_minutes_logged_on_visited_desert_accounts(
    built_warehouse: BuiltWarehouse,
) -> None:
    as_of = _latest_as_of(built_warehouse)
    # From the sales activities extract: minutes on desert customers in the window.
    expected = built_warehouse.query(
        """
        select
            count(distinct activities.customer_id),
            sum(activities.minutes)
        from staging.stg_erp__sales_activities as activities
        inner join marts.customer_segments as segments
            on activities.customer_id = segments.customer_id
        where segments.as_of_period = ?
            and segments.segment = 'profit_desert'
            and date_diff('month', strptime(activities.period, '%Y-%m'), strptime(?, '%Y-%m'))
                between 0 and 11
        """,
        [as_of, as_of],
    )[0]
    moved, freed, net_profit = built_warehouse.query(
        """
        select sum(desert_accounts_to_move), sum(minutes_freed), sum(net_profit)
        from marts.rep_workload
        where as_of_period = ?
        """,
        [as_of],
    )[0]
    assert expected[0] > 0
    assert (moved, round(freed, 6)) == (expected[0], round(float(expected[1]), 6))
    total = built_warehouse.scalar(
        "select sum(net_profit) from marts.customer_profitability where as_of_period = ?", [as_of]
    )
    assert abs(net_profit - total) < CENT


def test_the_portal_and_team_marts_are_published(built_warehouse: BuiltWarehouse) -> None:
    published = BuiltWarehouse(
        published_path(built_warehouse.path),
        built_warehouse.home,
        built_warehouse.demo,
        built_warehouse.run_output,
    )
    for mart in (
        "cross_sell_recommendations",
        "cross_sell_model_quality",
        "rep_workload",
        "acquisition_profiles",
    ):
        assert published.scalar(f"select count(*) from marts.{mart}") > 0, mart
    profiled = published.scalar(
        "select sum(customers) from marts.acquisition_profiles where as_of_period = ?",
        [_latest_as_of(published)],
    )
    assert profiled == published.scalar(
        "select count(*) from marts.customer_segments where as_of_period = ?",
        [_latest_as_of(published)],
    )
