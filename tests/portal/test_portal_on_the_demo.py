"""End to end: the desert portal's and desert team's marts (MARTS.md) find the stories
the demo plants for them (pipelines/demo/stories.py, `DemoSummary.stories`).

The warehouse is the session's `oasis run` on the default demo (tests/conftest.py);
every assertion reads the latest as-of period.
"""

from __future__ import annotations

from tests.conftest import BuiltWarehouse


def _as_of(built_warehouse: BuiltWarehouse) -> str:
    return built_warehouse.demo.closed_periods[-1]


def _story(built_warehouse: BuiltWarehouse, name: str) -> tuple[str, ...]:
    return built_warehouse.demo.stories[name]


def test_the_family_is_ranked_in_the_planted_order_of_net_profit(
    built_warehouse: BuiltWarehouse,
) -> None:
    skus = _story(built_warehouse, "family_with_profit_spread")
    ranked = built_warehouse.query(
        """
        select sku, rank_in_family, ranked_by, net_profit_per_unit
        from marts.product_rankings
        where as_of_period = ? and product_family = (
            select product_family from marts.product_rankings
            where as_of_period = ? and sku = ?)
        order by rank_in_family
        """,
        [_as_of(built_warehouse), _as_of(built_warehouse), skus[0]],
    )
    assert [row[0] for row in ranked] == list(skus), ranked
    assert [row[1] for row in ranked] == list(range(1, len(skus) + 1))
    assert {row[2] for row in ranked} == {"sales"}
    profits = [row[3] for row in ranked]
    assert profits == sorted(profits, reverse=True) and len(set(profits)) == len(profits)


def test_the_backordered_skus_substitutes_name_its_better_sibling(
    built_warehouse: BuiltWarehouse,
) -> None:
    sku, sibling = _story(built_warehouse, "backordered_sku_with_better_sibling")
    substitutes = built_warehouse.query(
        """
        select substitute_sku, substitute_rank, profit_per_unit_difference
        from marts.product_substitutes
        where as_of_period = ? and sku = ?
        order by substitute_rank
        """,
        [_as_of(built_warehouse), sku],
    )
    by_sku = {row[0]: row for row in substitutes}
    assert sibling in by_sku, substitutes
    assert by_sku[sibling][2] > 0
    # METHOD: a SKU backordered on more than 20% of its lines is nobody's substitute.
    offered_for_others = built_warehouse.scalar(
        "select count(*) from marts.product_substitutes "
        "where as_of_period = ? and substitute_sku = ?",
        [_as_of(built_warehouse), sku],
    )
    assert offered_for_others == 0
    # The substitutes offered are in stock: each one's backorder rate is within 20%.
    assert all(
        rate <= 0.2
        for (rate,) in built_warehouse.query(
            "select backorder_rate from marts.product_substitutes "
            "where as_of_period = ? and sku = ?",
            [_as_of(built_warehouse), sku],
        )
    )


def test_the_market_basket_model_beats_recommending_the_most_bought_families(
    built_warehouse: BuiltWarehouse,
) -> None:
    quality = built_warehouse.query(
        "select as_of_period, hit_rate, baseline_hit_rate, customers_evaluated "
        "from marts.cross_sell_model_quality order by as_of_period"
    )
    latest = {row[0]: row[1:] for row in quality}[_as_of(built_warehouse)]
    hit_rate, baseline_hit_rate, customers_evaluated = latest
    assert customers_evaluated >= 100
    # 12.8% against 6.3% on this demo: with 713 customers evaluated, a difference of
    # 3 points is some 2 standard errors (1.5 points) below the 6.5 measured.
    assert hit_rate > baseline_hit_rate + 0.03, latest
    # Robust, not one lucky month: the model wins in most as-of periods with a row (14
    # of 18 here). It loses the first 4, whose models were built on windows of 1 to 4
    # months: a family a customer buys every few months looks lacking there, and the
    # popular families are bought soon after.
    wins = [row[0] for row in quality if row[1] > row[2]]
    assert len(wins) > len(quality) / 2, quality


def test_the_planted_affinities_drive_cross_sell(built_warehouse: BuiltWarehouse) -> None:
    pairs = [pair.split(">") for pair in _story(built_warehouse, "family_affinities")]
    because = dict(
        built_warehouse.query(
            """
            select because_of_family || '>' || product_family, max(lift)
            from marts.cross_sell_recommendations
            where as_of_period = ?
            group by all
            """,
            [_as_of(built_warehouse)],
        )
    )
    for a, b in pairs:
        assert because.get(f"{a}>{b}", 0) > 1.5 or because.get(f"{b}>{a}", 0) > 1.5, (a, b)


def test_the_cheap_bulky_sku_is_kept(built_warehouse: BuiltWarehouse) -> None:
    (sku,) = _story(built_warehouse, "cheap_bulky_sku_keep")
    disposition, handling, recovery, saving, returns, rule_level = built_warehouse.query(
        """
        select recommended_disposition, handling_cost_per_unit, recovery_per_unit,
               saving_per_unit, returns, rule_level
        from marts.return_dispositions
        where as_of_period = ? and sku = ?
        """,
        [_as_of(built_warehouse), sku],
    )[0]
    assert (disposition, rule_level) == ("keep", "sku")
    assert returns >= 5 and handling > recovery and saving > 0


def test_the_unclear_instructions_alert_names_the_sku(built_warehouse: BuiltWarehouse) -> None:
    (sku,) = _story(built_warehouse, "unclear_instructions_sku")
    alerts = built_warehouse.query(
        """
        select returns, ratio, likely_fix
        from marts.return_reason_alerts
        where as_of_period = ? and sku = ? and reason_code = 'unclear_instructions'
        """,
        [_as_of(built_warehouse), sku],
    )
    assert len(alerts) == 1, alerts
    returns, ratio, likely_fix = alerts[0]
    assert returns >= 5 and ratio >= 3
    assert "instructions" in likely_fix


def test_the_desert_book_reps_have_the_most_desert_accounts_to_move(
    built_warehouse: BuiltWarehouse,
) -> None:
    to_move = dict(
        built_warehouse.query(
            """
            select rep_id, max(desert_accounts_to_move)
            from marts.rep_workload
            where as_of_period = ?
            group by all
            """,
            [_as_of(built_warehouse)],
        )
    )
    planted = _story(built_warehouse, "reps_with_desert_books")
    others = sorted(n for rep, n in to_move.items() if rep not in planted)
    assert others, to_move
    assert all(to_move[rep] >= 2 * others[len(others) // 2] for rep in planted), to_move
    assert all(to_move[rep] > others[-1] for rep in planted), to_move


def test_referral_brings_the_most_profitable_customers(built_warehouse: BuiltWarehouse) -> None:
    (channel,) = _story(built_warehouse, "referral_channel")
    per_channel = {
        row[0]: row[1:]
        for row in built_warehouse.query(
            """
            select acquisition_channel,
                   sum(peak_share * customers) / sum(customers),
                   sum(net_profit_per_customer * customers) / sum(customers)
            from marts.acquisition_profiles
            where as_of_period = ?
            group by all
            """,
            [_as_of(built_warehouse)],
        )
    }
    best_peak_share, best_profit = per_channel.pop(channel)
    assert per_channel
    assert all(best_peak_share > peak_share for peak_share, _ in per_channel.values())
    assert all(best_profit > profit for _, profit in per_channel.values())
