"""The desert portal's and desert team's stories are in the raw demo extract as planted.

On the default demo (800 customers, 24 months, seed 7: the one `make run` and the
end-to-end tests use), read straight from the generated parquet files with DuckDB.
"""

from __future__ import annotations

import duckdb
import pytest

from pipelines.demo.erp import DemoSummary, write_demo_erp
from tests.conftest import extract_views

# The latest 12 closed months of the default demo (it ends at 2026-10).
WINDOW = "invoice_date >= date '2025-11-01' and invoice_date < date '2026-11-01'"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return write_demo_erp(tmp_path_factory.mktemp("stories"), customers=800, months=24, seed=7)


@pytest.fixture(scope="module")
def con(demo: DemoSummary) -> duckdb.DuckDBPyConnection:
    connection = extract_views(demo.out_dir)
    connection.execute(
        "create view lines as select l.*, i.customer_id, i.invoice_date, p.product_family "
        "from invoice_lines l join invoices i using (invoice_id) join products p using (sku)"
    )
    connection.execute(
        "create view returned_lines as select r.*, l.sku, l.product_family, l.invoice_date "
        "from returns r join lines l using (invoice_id, line_number)"
    )
    return connection


def rows(con: duckdb.DuckDBPyConnection, sql: str, parameters: list | None = None) -> list:
    return con.execute(sql, parameters or []).fetchall()


def test_the_family_spreads_its_list_margins_a_dollar_and_more_apart(con, demo):
    skus = demo.stories["family_with_profit_spread"]
    margins = dict(rows(con, "select sku, list_price - standard_cost from products"))
    family = rows(
        con,
        "select sku from products where product_family = "
        "(select product_family from products where sku = ?)",
        [skus[0]],
    )
    assert sorted(skus) == sorted(s for (s,) in family) and len(skus) >= 3
    steps = [float(margins[a] - margins[b]) for a, b in zip(skus, skus[1:], strict=False)]
    assert min(steps) >= 1.5, steps


def test_the_backordered_sku_is_short_while_its_better_sibling_is_in_stock(con, demo):
    sku, sibling = demo.stories["backordered_sku_with_better_sibling"]
    last_three_months = "invoice_date >= date '2026-08-01' and invoice_date < date '2026-11-01'"
    rate = dict(
        rows(
            con,
            f"select sku, avg(backordered::int) from lines where {last_three_months} "
            "and sku in (?, ?) group by sku",
            [sku, sibling],
        )
    )
    assert rate[sku] > 0.35 and rate[sibling] < 0.1, rate
    family, margin, sibling_family, sibling_margin = rows(
        con,
        "select a.product_family, a.list_price - a.standard_cost, b.product_family, "
        "b.list_price - b.standard_cost from products a, products b "
        "where a.sku = ? and b.sku = ?",
        [sku, sibling],
    )[0]
    assert family == sibling_family and sibling_margin > margin


# The cross-sell quality check of the latest as-of period (2026-10): baskets over the
# 12 months to 2026-04, purchases over the 6 months after.
MODEL_WINDOW = "invoice_date >= date '2025-05-01' and invoice_date < date '2026-05-01'"
FOLLOWING_MONTHS = "invoice_date >= date '2026-05-01' and invoice_date < date '2026-11-01'"
# The customers of these stories buy every family, as they were calibrated.
OTHER_STORIES = (
    "project_based_buyers",
    "profitable_heavy_returners",
    "return_abusers",
    "small_share_of_wallet",
    "fast_growers",
    "service_abusers",
)


# The families each customer bought in the model window, the customers of OTHER_STORIES
# left out: its one parameter is planted_elsewhere(demo).
MODEL_WINDOW_FAMILIES = f"""
    select distinct customer_id, product_family from lines
    where {MODEL_WINDOW} and not list_contains(?, customer_id)
"""


def planted_elsewhere(demo: DemoSummary) -> list[str]:
    return [customer for story in OTHER_STORIES for customer in demo.stories[story]]


def test_customers_take_up_the_second_family_of_their_affinity(con, demo):
    buyers = dict(
        rows(
            con,
            f"select product_family, count(distinct customer_id) from lines where {WINDOW} "
            "group by product_family",
        )
    )
    for pair in demo.stories["family_affinities"]:
        first, then = pair.split(">")
        share_taking_it_up = dict(
            rows(
                con,
                f"""
                with model_window as ({MODEL_WINDOW_FAMILIES}),
                lacking as (
                    select customer_id, bool_or(product_family = ?) as bought_first
                    from model_window group by customer_id
                    having not bool_or(product_family = ?)
                ),
                later as (
                    select distinct customer_id from lines
                    where product_family = ? and {FOLLOWING_MONTHS}
                )
                select bought_first, avg(case when later.customer_id is null then 0 else 1 end)
                from lacking left join later using (customer_id)
                group by bought_first
                """,
                [planted_elsewhere(demo), first, then, then],
            )
        )
        # Buyers of the first family lacking the second take it up within 6 months
        # (8-20% on this demo); other customers lacking it almost never do (0-0.2%).
        assert share_taking_it_up[True] >= 0.05, (pair, share_taking_it_up)
        assert share_taking_it_up[True] > 10 * share_taking_it_up[False], (pair, share_taking_it_up)
        # The second family is among the least bought (140-169 buyers, the 35 families'
        # median is 173): recommending the most bought families does not name it.
        assert buyers[then] < sorted(buyers.values())[len(buyers) // 2], (pair, buyers[then])


def test_customers_keep_to_their_assortment(con, demo):
    taken_up_later = rows(
        con,
        f"""
        with model_window as ({MODEL_WINDOW_FAMILIES}),
        lacking as (
            select customers.customer_id, families.product_family
            from (select distinct customer_id from model_window) as customers
            cross join (select distinct product_family from products) as families
            anti join model_window using (customer_id, product_family)
        ),
        later as (
            select distinct customer_id, product_family from lines where {FOLLOWING_MONTHS}
        )
        select
            list_contains(?, lacking.product_family),
            avg(case when later.customer_id is null then 0 else 1 end)
        from lacking left join later using (customer_id, product_family)
        group by all
        """,
        [
            planted_elsewhere(demo),
            [pair.split(">")[1] for pair in demo.stories["family_affinities"]],
        ],
    )
    share = dict(taken_up_later)
    # A family a customer lacked in the window is bought in the 6 months after for 0.14%
    # of (customer, family) pairs on this demo, the affinities' second families for 3.0%:
    # new families come through the affinities, not at random.
    assert share[False] < 0.005 and share[True] > 5 * share[False], share


def test_the_cheap_bulky_sku_comes_back_in_every_window(con, demo):
    (sku,) = demo.stories["cheap_bulky_sku_keep"]
    kg_per_dollar = rows(
        con,
        "select sku, unit_weight_kg / standard_cost from products order by 2 desc limit 5",
    )
    assert sku in [s for s, _ in kg_per_dollar]
    per_window = rows(
        con,
        """
        with months as (select distinct date_trunc('month', invoice_date) as m from invoices)
        select m, count(r.return_id) from months
        left join returned_lines r on r.sku = ?
            and r.return_date >= m - interval 11 month and r.return_date < m + interval 1 month
        where m >= date '2025-10-01' and m < date '2026-11-01'
        group by m
        """,
        [sku],
    )
    assert len(per_window) == 13 and min(n for _, n in per_window) >= 5, per_window


def test_the_unclear_instructions_sku_has_three_times_its_familys_rate(con, demo):
    (sku,) = demo.stories["unclear_instructions_sku"]
    per_window = rows(
        con,
        """
        with months as (select distinct date_trunc('month', invoice_date) as m from invoices
                        where invoice_date >= date '2025-10-01'
                            and invoice_date < date '2026-11-01'),
        family as (select product_family from products where sku = ?),
        sold as (select m, sku, sum(quantity) as units from months
                 join lines on invoice_date >= m - interval 11 month
                     and invoice_date < m + interval 1 month
                 where product_family = (select product_family from family) group by all),
        unclear as (select m, sku, count(*) as n from months
                    join returned_lines on invoice_date >= m - interval 11 month
                        and invoice_date < m + interval 1 month
                    where reason_code = 'unclear_instructions'
                        and product_family = (select product_family from family)
                    group by all)
        select m,
               coalesce(sum(n) filter (where sku = ?), 0),
               sum(n) filter (where sku = ?) / any_value(units) filter (where sku = ?)
                   / (sum(n) / (select sum(units) from sold s where s.m = sold.m))
        from sold left join unclear using (m, sku)
        group by m
        """,
        [sku, sku, sku, sku],
    )
    assert len(per_window) == 13
    assert all(n >= 5 and ratio >= 3 for _, n, ratio in per_window), per_window


def test_the_desert_book_reps_visit_many_small_accounts(con, demo):
    visited_small = dict(
        rows(
            con,
            f"""
            with revenue as (select customer_id, sum(quantity * unit_price) as revenue
                             from lines where {WINDOW} group by all),
            customer as (select customer_id, coalesce(revenue, 0) as revenue
                         from customers left join revenue using (customer_id)),
            median as (select quantile_cont(revenue, 0.5) as revenue from customer
                       where revenue > 0)
            select rep_id, count(distinct customer_id)
            from sales_activities join customer using (customer_id)
            where kind in ('visit', 'call')
                and activity_date >= date '2025-11-01' and activity_date < date '2026-11-01'
                and customer.revenue < (select revenue from median)
            group by all
            """,
        )
    )
    planted = demo.stories["reps_with_desert_books"]
    others = sorted(n for rep, n in visited_small.items() if rep not in planted)
    assert all(visited_small[rep] >= 2 * others[len(others) // 2] for rep in planted), visited_small


def test_referral_customers_buy_more_at_a_better_margin(con, demo):
    assert demo.stories["referral_channel"] == ("referral",)
    per_channel = dict(
        rows(
            con,
            f"""
            with margin as (select customer_id,
                                   sum(quantity * (unit_price - coalesce(unit_cost, standard_cost)))
                                       as gross_margin
                            from lines join products using (sku) where {WINDOW} group by all)
            select acquisition_channel, avg(coalesce(gross_margin, 0))
            from customers left join margin using (customer_id)
            group by all
            """,
        )
    )
    referral = per_channel.pop("referral")
    assert all(referral > 2 * other for other in per_channel.values()), per_channel
