"""`oasis explain` on every kind of P&L row."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.explain import UnknownRow, explain, explain_row
from tests.conftest import BuiltWarehouse


def _first_row_of_kind(warehouse: BuiltWarehouse, row_kind: str) -> tuple[str, str]:
    return warehouse.query(
        "select row_id, net_profit from marts.fct_invoice_line_pnl "
        "where row_kind = ? and pool_cost_total > 0 order by row_id limit 1",
        [row_kind],
    )[0]


@pytest.mark.parametrize("row_kind", ["invoice", "return", "unattached", "unused_capacity"])
def test_explain_names_every_pool_share_and_ends_with_the_net_profit(
    built_warehouse: BuiltWarehouse, row_kind: str
) -> None:
    row_id, net_profit = _first_row_of_kind(built_warehouse, row_kind)
    pools = [
        pool
        for (pool,) in built_warehouse.query(
            "select pool from marts.fct_cost_allocations where row_id = ?", [row_id]
        )
    ]
    with duckdb.connect(str(built_warehouse.path), read_only=True) as connection:
        text = explain_row(connection, row_id)
    assert text.startswith(row_id)
    assert pools and all(f"  {pool} " in text for pool in pools)
    assert text.rstrip().endswith(f"= {net_profit:,.2f}")


def test_explain_tells_why_an_unallocated_pool_has_no_rate(
    built_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    # The demo has no pool without driver units, so plant one in a copy of the marts.
    warehouse = tmp_path / "unallocated.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(f"attach '{built_warehouse.path}' as built (read_only)")
        connection.execute("create schema marts")
        for table in ("fct_invoice_line_pnl", "fct_cost_allocations"):
            connection.execute(
                f"create table marts.{table} as select * from built.marts.{table} where false"
            )
        connection.execute(
            """
            insert into marts.fct_invoice_line_pnl (row_id, row_kind, period, pool, quantity,
                gross_revenue, discount, net_revenue, freight_revenue, expedite_revenue,
                restocking_fee_revenue, cogs, freight_cost, pool_cost_total, pool_cost_variable,
                pool_cost_fixed, carrying_cost, bad_debt, net_profit)
            values ('unallocated:2025-01:expediting', 'unallocated', '2025-01', 'expediting',
                0, 0, 0, 0, 0, 0, 0, 0, 0, 120, 30, 90, 0, 0, -120)
            """
        )
        connection.execute(
            """
            insert into marts.fct_cost_allocations values ('unallocated:2025-01:expediting',
                '2025-01', 'expediting', 'expedited_orders', 0, null, 120, 30, 90)
            """
        )
        text = explain_row(connection, "unallocated:2025-01:expediting")
    assert "its driver expedited_orders had no units this period" in text
    assert text.rstrip().endswith("= -120.00")


def test_explain_of_an_unknown_row_says_what_row_ids_look_like(
    built_warehouse: BuiltWarehouse,
) -> None:
    with (
        duckdb.connect(str(built_warehouse.path), read_only=True) as connection,
        pytest.raises(UnknownRow, match="invoice:<invoice_id>:<line>"),
    ):
        explain_row(connection, "invoice:NOPE:1")


def test_explain_a_customer_names_segment_flags_and_recommendations(
    built_warehouse: BuiltWarehouse,
) -> None:
    customer_id, period, family, because_of = built_warehouse.query(
        """
        select customer_id, as_of_period, product_family, because_of_family
        from marts.cross_sell_recommendations
        where as_of_period = (select max(as_of_period) from marts.cross_sell_recommendations)
        order by customer_id, recommendation_rank limit 1
        """
    )[0]
    segment, quartile, action = built_warehouse.query(
        "select segment, quartile, recommended_action from marts.customer_policy_flags "
        "where customer_id = ? and as_of_period = ?",
        [customer_id, period],
    )[0]
    with duckdb.connect(str(built_warehouse.path), read_only=True) as connection:
        text = explain(connection, f"customer:{customer_id}")
    assert text.startswith(
        f"customer {customer_id}, as of {period}: {segment}, quartile {quartile}, "
        f"recommended action {action}"
    )
    assert f"{family}, because of {because_of}" in text


def test_explain_a_sku_names_its_rank_substitutes_and_returns(
    built_warehouse: BuiltWarehouse,
) -> None:
    sku, period, substitute = built_warehouse.query(
        """
        select sku, as_of_period, substitute_sku from marts.product_substitutes
        where as_of_period = (select max(as_of_period) from marts.product_rankings)
        order by sku, substitute_rank limit 1
        """
    )[0]
    rank, family = built_warehouse.query(
        "select rank_in_family, product_family from marts.product_rankings "
        "where sku = ? and as_of_period = ?",
        [sku, period],
    )[0]
    with duckdb.connect(str(built_warehouse.path), read_only=True) as connection:
        text = explain(connection, f"sku:{sku}")
        with pytest.raises(UnknownRow, match="no SKU"):
            explain(connection, "sku:NO-SUCH-SKU")
    assert text.startswith(f"sku {sku}, as of {period}: rank {rank} in {family}")
    assert f"1. {substitute}: " in text
