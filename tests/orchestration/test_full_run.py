"""End to end: `oasis run` on a small demo extract, then the money is checked."""

from __future__ import annotations

from tests.conftest import BuiltWarehouse
from tests.pipelines.test_raw_parquet import assert_warehouse_mirrored

CENT = 0.005


def test_run_prints_the_profit_map_and_where_things_are(built_warehouse: BuiltWarehouse) -> None:
    output = built_warehouse.run_output
    assert "Profit map, 12 months to" in output
    assert f"Warehouse: {built_warehouse.path}" in output
    assert "Reports:" in output
    assert f"Waiting for the cost pools of {built_warehouse.demo.open_period}" in output


def test_every_pool_and_period_is_conserved_to_the_cent(built_warehouse: BuiltWarehouse) -> None:
    # The reconciliation is audit.audit_pool_conservation's (its one home): every pool of
    # the extract has its row there, and every row is conserved.
    pools = built_warehouse.scalar("select count(*) from raw.cost_pools")
    assert pools >= 13 * len(built_warehouse.demo.closed_periods)
    audited, conserved = built_warehouse.query(
        """
        select count(audit.pool), count(*) filter (where audit.is_conserved)
        from raw.cost_pools as pools
        left join audit.audit_pool_conservation as audit using (period, pool)
        """
    )[0]
    assert audited == conserved == pools
    assert built_warehouse.scalar("select count(*) from audit.audit_pool_conservation") == pools


def test_every_pnl_period_keeps_the_net_profit_identity_and_its_pool_cost(
    built_warehouse: BuiltWarehouse,
) -> None:
    # audit.audit_pnl_identity has one row per period of the P&L, each with every row
    # counted and nothing broken.
    by_period = dict(
        built_warehouse.query(
            "select period, count(*) from marts.fct_invoice_line_pnl group by period"
        )
    )
    audited = built_warehouse.query(
        "select period, row_count, identity_breaks, split_breaks, carries_pool_costs"
        " from audit.audit_pnl_identity"
    )
    assert {period: rows for period, rows, *_ in audited} == by_period
    assert set(by_period) == set(built_warehouse.demo.closed_periods)
    assert all(breaks == splits == 0 and carried for _, _, breaks, splits, carried in audited)


def test_every_closed_period_reconciles_to_the_ledger(built_warehouse: BuiltWarehouse) -> None:
    accounts = built_warehouse.query(
        "select period, account, is_reconciled from audit.audit_ledger_reconciliation"
    )
    assert len(accounts) == 3 * len(built_warehouse.demo.closed_periods)
    assert all(reconciled for *_, reconciled in accounts)


def test_every_customer_in_scope_has_one_segment_and_quartile(
    built_warehouse: BuiltWarehouse,
) -> None:
    missing_or_doubled = built_warehouse.query(
        """
        select scope.customer_id, scope.as_of_period, count(segments.customer_id)
        from marts.customer_profitability as scope
        left join marts.customer_segments as segments using (customer_id, as_of_period)
        group by scope.customer_id, scope.as_of_period
        having count(segments.customer_id) <> 1
        """
    )
    assert missing_or_doubled == []
    assert (
        built_warehouse.scalar(
            "select count(*) from marts.customer_segments where quartile not between 1 and 4"
        )
        == 0
    )


def test_quartile_sizes_within_a_segment_differ_by_at_most_one(
    built_warehouse: BuiltWarehouse,
) -> None:
    spreads = built_warehouse.query(
        """
        with sizes as (
            select as_of_period, segment, quartile, count(*) as customers
            from marts.customer_segments group by all
        )
        select as_of_period, segment, max(customers) - min(customers) as spread
        from sizes group by all having spread > 1
        """
    )
    assert spreads == []


def test_profit_map_totals_equal_the_pnl_totals(built_warehouse: BuiltWarehouse) -> None:
    as_of = built_warehouse.demo.closed_periods[-1]
    window = built_warehouse.demo.closed_periods[-12:]
    pnl_revenue, pnl_profit = built_warehouse.query(
        f"""
        select sum(net_revenue), sum(net_profit) from marts.fct_invoice_line_pnl
        where customer_id is not null and period in ({", ".join("?" * len(window))})
        """,
        list(window),
    )[0]
    map_revenue, map_profit = built_warehouse.query(
        "select sum(revenue), sum(net_profit) from marts.profit_map where as_of_period = ?",
        [as_of],
    )[0]
    assert abs(pnl_revenue - map_revenue) < CENT
    assert abs(pnl_profit - map_profit) < CENT


def test_facts_of_the_open_period_wait_for_its_pools(built_warehouse: BuiltWarehouse) -> None:
    waiting = built_warehouse.query(
        "select fact, waiting from marts.facts_awaiting_cost_pools where period = ?",
        [built_warehouse.demo.open_period],
    )
    assert dict(waiting).get("invoice_lines", 0) > 0
    in_pnl = built_warehouse.scalar(
        "select count(*) from marts.fct_invoice_line_pnl where period = ?",
        [built_warehouse.demo.open_period],
    )
    assert in_pnl == 0


def test_run_report_is_written(built_warehouse: BuiltWarehouse) -> None:
    reports = list((built_warehouse.home / "reports").glob("*/run_summary.md"))
    assert len(reports) == 1
    text = reports[0].read_text()
    assert "Profit map" in text and "Facts waiting for cost pools" in text


def test_the_raw_parquet_beside_the_warehouse_holds_exactly_the_raw_tables(
    built_warehouse: BuiltWarehouse,
) -> None:
    assert_warehouse_mirrored(built_warehouse.path)


def test_the_default_demo_shows_the_published_shape(built_warehouse: BuiltWarehouse) -> None:
    # METHOD.md: the top 20% of customers make ~150% of profit; deserts are 50-80%.
    as_of = built_warehouse.demo.closed_periods[-1]
    top_fifth_share = built_warehouse.scalar(
        """
        select max(cumulative_profit_share) from marts.whale_curve
        where as_of_period = ? and cumulative_customer_share <= 0.2
        """,
        [as_of],
    )
    desert_share = built_warehouse.scalar(
        """
        select avg(case when segment = 'profit_desert' then 1.0 else 0.0 end)
        from marts.customer_segments where as_of_period = ?
        """,
        [as_of],
    )
    assert 1.3 <= top_fifth_share <= 2.5
    # Deserts are the customers below the median revenue (desert_revenue_percentile 0.5):
    # half of them, less the median customer itself when their number is odd.
    assert 0.49 <= desert_share <= 0.8
