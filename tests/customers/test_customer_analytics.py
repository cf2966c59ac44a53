"""End to end: the customer, product and rep marts on the demo find its planted stories
and add up to the P&L.

The demo (pipelines/demo/stories.py) plants customers whose behaviour the analysis must
reveal: project-based buyers who went quiet in the latest year, heavy returners who
stay profitable, return abusers, service abusers and fast growers. The warehouse is
the session's `oasis run` on the 120-customer, 15-month demo (tests/conftest.py).
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.conftest import BuiltWarehouse

CENT = 0.005
WINDOW_MONTHS = 12  # dbt var window_months
MIGRATION_MONTHS = 12  # dbt var migration_months


def _as_of(built_warehouse: BuiltWarehouse) -> str:
    return built_warehouse.demo.closed_periods[-1]


def _placeholders(values: tuple[str, ...]) -> str:
    return ", ".join("?" * len(values))


# --- planted stories --------------------------------------------------------------


def _project_buyers_now(built_warehouse: BuiltWarehouse) -> list[tuple]:
    buyers = built_warehouse.demo.stories["project_based_buyers"]
    rows = built_warehouse.query(
        f"""
        select customer_id, segment, earlier_segment, last_profit_peak_period, segment_since
        from marts.customer_segment_history
        where as_of_period = ? and customer_id in ({_placeholders(buyers)})
        order by customer_id
        """,
        [_as_of(built_warehouse), *buyers],
    )
    assert [row[0] for row in rows] == sorted(buyers)
    return rows


def test_project_based_buyers_were_peaks_a_year_ago_and_are_peaks_no_more(
    built_warehouse: BuiltWarehouse,
) -> None:
    # Given buyers whose projects ended a year ago, when they are segmented at the
    # latest as-of period, then none is a peak, and their history remembers them as
    # peaks: twelve months earlier and as the last time they were a peak.
    for customer_id, segment, earlier_segment, last_peak, segment_since in _project_buyers_now(
        built_warehouse
    ):
        assert segment != "profit_peak", customer_id
        assert earlier_segment == "profit_peak", customer_id
        assert last_peak is not None and last_peak < segment_since, customer_id


def test_project_based_buyers_are_deserts_now(built_warehouse: BuiltWarehouse) -> None:
    for customer_id, segment, *_ in _project_buyers_now(built_warehouse):
        assert segment == "profit_desert", customer_id


def test_migration_moves_the_project_buyers_from_peaks_to_deserts_with_their_profit(
    built_warehouse: BuiltWarehouse,
) -> None:
    buyers = built_warehouse.demo.stories["project_based_buyers"]
    customers, profit_change = built_warehouse.query(
        """
        select sum(customers), sum(net_profit_change) from marts.segment_migration
        where as_of_period = ? and from_segment = 'profit_peak'
            and to_segment in ('profit_drain', 'profit_desert')
        """,
        [_as_of(built_warehouse)],
    )[0]
    assert customers >= len(buyers)
    assert profit_change < 0
    # Every customer in scope now or a year ago is in exactly one move.
    moved_now, moved_before = built_warehouse.query(
        """
        select
            sum(case when to_segment <> 'lost' then customers else 0 end),
            sum(case when from_segment <> 'new' then customers else 0 end)
        from marts.segment_migration where as_of_period = ?
        """,
        [_as_of(built_warehouse)],
    )[0]
    earlier = built_warehouse.demo.closed_periods[-1 - MIGRATION_MONTHS]
    in_scope = dict(
        built_warehouse.query(
            "select as_of_period, count(*) from marts.customer_segments"
            " where as_of_period in (?, ?) group by as_of_period",
            [_as_of(built_warehouse), earlier],
        )
    )
    assert (moved_now, moved_before) == (in_scope[_as_of(built_warehouse)], in_scope[earlier])


def test_fast_growers_grew_revenue_year_on_year(built_warehouse: BuiltWarehouse) -> None:
    # Year on year means two full windows twelve months apart: 24 closed months.
    closed = built_warehouse.demo.closed_periods
    assert len(closed) >= WINDOW_MONTHS + MIGRATION_MONTHS, "the fixture is too short"
    growers = built_warehouse.demo.stories["fast_growers"]
    earlier = closed[-1 - MIGRATION_MONTHS]
    revenue = defaultdict(dict)
    for customer_id, as_of_period, amount in built_warehouse.query(
        f"""
        select customer_id, as_of_period, revenue from marts.customer_profitability
        where as_of_period in (?, ?) and customer_id in ({_placeholders(growers)})
        """,
        [_as_of(built_warehouse), earlier, *growers],
    ):
        revenue[customer_id][as_of_period] = amount
    for customer_id in growers:
        before = revenue[customer_id].get(earlier, 0)
        assert revenue[customer_id][_as_of(built_warehouse)] >= before * 5 / 4, customer_id


def test_heavy_returners_stay_profitable_while_return_abusers_lose_money(
    built_warehouse: BuiltWarehouse,
) -> None:
    # METHOD.md: a return abuser returns at least 3 times the company's share of units,
    # made at least 3 returns and loses money; heavy returners who stay profitable are
    # not abusers. Both return a lot; profit tells them apart.
    stories = built_warehouse.demo.stories
    company_return_share = built_warehouse.scalar(
        "select sum(units_returned) / sum(units_sold) from marts.customer_profitability"
        " where as_of_period = ?",
        [_as_of(built_warehouse)],
    )
    customers = stories["profitable_heavy_returners"] + stories["return_abusers"]
    rows = {
        row[0]: row[1:]
        for row in built_warehouse.query(
            f"""
            select p.customer_id, p.units_returned / p.units_sold, p.return_count, p.net_profit,
                p.returns_cost, s.segment
            from marts.customer_profitability as p
            inner join marts.customer_segments as s using (customer_id, as_of_period)
            where p.as_of_period = ? and p.customer_id in ({_placeholders(customers)})
            """,
            [_as_of(built_warehouse), *customers],
        )
    }
    for customer_id in customers:
        return_share, return_count, _, returns_cost, _ = rows[customer_id]
        assert return_share >= 3 * company_return_share, customer_id
        assert return_count >= 3 and returns_cost > 0, customer_id
    for customer_id in stories["profitable_heavy_returners"]:
        assert rows[customer_id][2] > 0 and rows[customer_id][4] == "profit_peak", customer_id
    for customer_id in stories["return_abusers"]:
        assert rows[customer_id][2] < 0, customer_id


def test_service_abusers_are_support_seekers(built_warehouse: BuiltWarehouse) -> None:
    abusers = built_warehouse.demo.stories["service_abusers"]
    rows = built_warehouse.query(
        f"""
        select customer_id, is_support_seeker, support_score from marts.customer_buyer_profiles
        where as_of_period = ? and customer_id in ({_placeholders(abusers)})
        """,
        [_as_of(built_warehouse), *abusers],
    )
    assert len(rows) == len(abusers)
    for customer_id, is_support_seeker, support_score in rows:
        assert is_support_seeker and support_score >= 0.9, customer_id


# --- the whale curve, concentration and rankings ----------------------------------------


def test_whale_curve_rises_above_100_percent_and_ends_at_100(
    built_warehouse: BuiltWarehouse,
) -> None:
    highest, last, customers = built_warehouse.query(
        """
        select
            max(cumulative_profit_share),
            max_by(cumulative_profit_share, customer_rank),
            count(*)
        from marts.whale_curve where as_of_period = ?
        """,
        [_as_of(built_warehouse)],
    )[0]
    assert highest > 1.0
    assert last == pytest.approx(1.0)
    in_scope = built_warehouse.scalar(
        "select count(*) from marts.customer_profitability where as_of_period = ?",
        [_as_of(built_warehouse)],
    )
    assert customers == in_scope


def test_concentration_matches_a_recount_of_customer_revenue(
    built_warehouse: BuiltWarehouse,
) -> None:
    customers = built_warehouse.query(
        "select revenue, net_profit from marts.customer_profitability where as_of_period = ?"
        " order by revenue desc, customer_id",
        [_as_of(built_warehouse)],
    )
    revenue = float(sum(row[0] for row in customers))
    profit = float(sum(row[1] for row in customers))
    expected = {}
    for percent in (1, 5, 10, 20):
        top = customers[: max(1, -(-len(customers) * percent // 100))]
        expected[f"top_{percent}pct_revenue_share"] = float(sum(r[0] for r in top)) / revenue
        expected[f"top_{percent}pct_profit_share"] = float(sum(r[1] for r in top)) / profit
    expected["herfindahl_index"] = sum((float(r[0]) / revenue) ** 2 for r in customers)
    expected["major_customers"] = sum(float(r[0]) / revenue > 0.10 for r in customers)
    columns = list(expected)
    actual = built_warehouse.query(
        f"select {', '.join(columns)} from marts.customer_concentration where as_of_period = ?",
        [_as_of(built_warehouse)],
    )[0]
    assert dict(zip(columns, actual, strict=True)) == pytest.approx(expected)
    listed = built_warehouse.scalar(
        "select count(*) from marts.major_customers where as_of_period = ?",
        [_as_of(built_warehouse)],
    )
    assert listed == expected["major_customers"]


def test_margin_lift_is_the_gap_to_the_segment_margin_largest_first(
    built_warehouse: BuiltWarehouse,
) -> None:
    rows = built_warehouse.query(
        """
        select segment, revenue, net_profit, margin_lift, margin_lift_rank
        from marts.customer_margin_lift where as_of_period = ? order by margin_lift_rank
        """,
        [_as_of(built_warehouse)],
    )
    totals = defaultdict(lambda: [0.0, 0.0])
    for segment, revenue, net_profit, _, _ in rows:
        totals[segment][0] += float(revenue)
        totals[segment][1] += float(net_profit)
    lifts = [float(row[3]) for row in rows]
    assert lifts == sorted(lifts, reverse=True)
    assert [row[4] for row in rows] == list(range(1, len(rows) + 1))
    for segment, revenue, net_profit, margin_lift, _ in rows:
        segment_margin = totals[segment][1] / totals[segment][0]
        expected = float(revenue) * segment_margin - float(net_profit)
        assert float(margin_lift) == pytest.approx(expected, abs=1e-6)
    # Within a segment the lifts add up to zero: the segment earns its own average.
    for segment in totals:
        assert sum(float(r[3]) for r in rows if r[0] == segment) == pytest.approx(0, abs=CENT)


def test_products_rank_within_their_family_by_net_profit_per_unit(
    built_warehouse: BuiltWarehouse,
) -> None:
    rows = built_warehouse.query(
        """
        select product_family, net_profit_per_unit, rank_in_family from marts.product_profitability
        where as_of_period = ? and net_profit_per_unit is not null
        order by product_family, rank_in_family
        """,
        [_as_of(built_warehouse)],
    )
    by_family = defaultdict(list)
    for family, per_unit, rank in rows:
        by_family[family].append((per_unit, rank))
    assert len(by_family) > 10
    for family, ranked in by_family.items():
        per_unit = [value for value, _ in ranked]
        assert per_unit == sorted(per_unit, reverse=True), family
        assert ranked[0][1] == 1, family


# --- the numbers add up -----------------------------------------------------------------


def test_customers_products_and_reps_add_up_to_the_pnl_of_the_window(
    built_warehouse: BuiltWarehouse,
) -> None:
    window = built_warehouse.demo.closed_periods[-WINDOW_MONTHS:]
    as_of = _as_of(built_warehouse)
    pnl_customers, pnl_products = built_warehouse.query(
        f"""
        select
            sum(net_profit),
            sum(case when sku is not null then net_profit else 0 end)
        from marts.fct_invoice_line_pnl
        where customer_id is not null and period in ({_placeholders(window)})
        """,
        list(window),
    )[0]
    for mart in ("customer_profitability", "rep_profitability", "profit_map"):
        total = built_warehouse.scalar(
            f"select sum(net_profit) from marts.{mart} where as_of_period = ?", [as_of]
        )
        assert abs(total - pnl_customers) < CENT, mart
    products = built_warehouse.scalar(
        "select sum(net_profit) from marts.product_profitability where as_of_period = ?", [as_of]
    )
    assert abs(products - pnl_products) < CENT


def test_cost_to_serve_components_add_up_for_every_customer(
    built_warehouse: BuiltWarehouse,
) -> None:
    off = built_warehouse.scalar(
        """
        select count(*) from marts.customer_profitability
        where abs(cost_to_serve - (freight_cost + order_handling_cost + picking_and_shipping_cost
            + returns_cost + service_cost + sales_cost + carrying_cost + bad_debt)) >= ?
        """,
        [CENT],
    )
    assert off == 0
    # and every component carries cost: the demo has pools of every driver
    totals = built_warehouse.query(
        """
        select sum(order_handling_cost), sum(picking_and_shipping_cost), sum(returns_cost),
            sum(service_cost), sum(sales_cost)
        from marts.customer_profitability where as_of_period = ?
        """,
        [_as_of(built_warehouse)],
    )[0]
    assert all(total > 0 for total in totals)
