"""`oasis explain` on every kind of P&L row."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.explain import UnknownRow, explain_row
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
