"""docs/bi.md's five questions, run as a BI user runs them: each file of
docs/bi/questions on the published copy of the demo warehouse, opened read-only, with
its answer checked against the marts it summarises. The doc includes every file
verbatim, so what the doc shows is what these tests run."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import duckdb
import pytest

from pipelines.published_warehouse import published_path
from pipelines.settings import REPO_ROOT
from tests.conftest import BuiltWarehouse

GUIDE = REPO_ROOT / "docs" / "bi.md"
QUESTIONS = REPO_ROOT / "docs" / "bi" / "questions"
QUESTION_FILES = sorted(QUESTIONS.glob("*.sql"))
CENT = Decimal("0.005")


def question(name: str) -> str:
    return (QUESTIONS / name).read_text()


@pytest.fixture(scope="module")
def published(built_warehouse: BuiltWarehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    """The published copy, read-only, as docs/bi.md tells a BI tool to open it."""
    with duckdb.connect(str(published_path(built_warehouse.path)), read_only=True) as connection:
        yield connection


def answer(connection: duckdb.DuckDBPyConnection, name: str) -> list[dict]:
    cursor = connection.execute(question(name))
    columns = [column[0] for column in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def latest(connection: duckdb.DuckDBPyConnection, mart: str) -> str:
    return connection.execute(f"select max(as_of_period) from marts.{mart}").fetchall()[0][0]


def test_the_guide_shows_each_question_verbatim() -> None:
    guide = GUIDE.read_text()
    assert [path.name for path in QUESTION_FILES] == [
        "01_bottom_desert_quartile.sql",
        "02_profit_map.sql",
        "03_let_go_savings.sql",
        "04_skus_to_show_first.sql",
        "05_reps_carrying_the_desert.sql",
    ]
    for path in QUESTION_FILES:
        assert f"```sql\n{path.read_text().rstrip()}\n```" in guide, path.name


def test_the_dimensions_reach_the_published_copy(
    built_warehouse: BuiltWarehouse, published: duckdb.DuckDBPyConnection
) -> None:
    (marts,) = published.execute("select marts from meta.publication").fetchall()[0]
    assert {"dim_customers", "dim_products", "price_waterfall"} <= set(marts)
    # every customer and SKU of the extract, named as the raw tables name them
    names = "select customer_id, customer_name from {}"
    raw_customers = dict(built_warehouse.query(names.format("raw.customers")))
    dim_customers = dict(published.execute(names.format("marts.dim_customers")).fetchall())
    assert dim_customers == raw_customers
    assert len(raw_customers) == built_warehouse.demo.rows["customers"]
    raw_skus = dict(built_warehouse.query("select sku, list_price from raw.products"))
    dim_skus = dict(published.execute("select sku, list_price from marts.dim_products").fetchall())
    assert dim_skus.keys() == raw_skus.keys()
    assert all(abs(dim_skus[sku] - Decimal(str(price))) < CENT for sku, price in raw_skus.items())


def test_dim_customers_carry_the_latest_segment_and_null_out_of_scope(
    published: duckdb.DuckDBPyConnection,
) -> None:
    period = latest(published, "customer_segments")
    mismatched, in_scope, out_of_scope = published.execute(
        """
        select
            count(*) filter (
                where segments.customer_id is not null
                    and (customers.segment, customers.quartile, customers.recommended_action)
                        != (segments.segment, segments.quartile, flags.recommended_action)
            ),
            count(segments.customer_id),
            count(*) filter (where segments.customer_id is null and customers.segment is null
                and customers.quartile is null and customers.recommended_action is null)
        from marts.dim_customers as customers
        left join marts.customer_segments as segments
            on customers.customer_id = segments.customer_id and segments.as_of_period = ?
        left join marts.customer_policy_flags as flags
            on customers.customer_id = flags.customer_id and flags.as_of_period = ?
        where customers.as_of_period = ?
        """,
        [period, period, period],
    ).fetchall()[0]
    total = published.execute("select count(*) from marts.dim_customers").fetchall()[0][0]
    assert mismatched == 0
    assert in_scope > 0
    assert in_scope + out_of_scope == total


def test_python_calls_of_the_guide_work_on_the_installed_duckdb(
    published: duckdb.DuckDBPyConnection,
) -> None:
    customers = published.execute("select count(*) from marts.dim_customers").fetchall()[0][0]
    frame = published.execute("select * from marts.dim_customers").df()
    assert len(frame) == customers
    assert "customer_name" in frame.columns
    table = published.sql("select * from marts.price_waterfall").to_arrow_table()
    cells = published.execute("select count(*) from marts.price_waterfall").fetchall()[0][0]
    assert table.num_rows == cells > 0
    guide = GUIDE.read_text()
    for call in ("read_only=True", ".fetchall()", ".df()", ".to_arrow_table()"):
        assert call in guide


def test_question_1_lists_the_bottom_desert_quartile_by_name(
    published: duckdb.DuckDBPyConnection,
) -> None:
    rows = answer(published, "01_bottom_desert_quartile.sql")
    period = latest(published, "customer_segments")
    expected = dict(
        published.execute(
            """
            select customer_id, net_profit from marts.customer_segments
            where as_of_period = ? and segment = 'profit_desert' and quartile = 4
            """,
            [period],
        ).fetchall()
    )
    assert len(expected) > 0
    assert {row["customer_id"]: row["net_profit"] for row in rows} == expected
    assert len(rows) == len(expected)
    assert all(row["customer_name"] for row in rows)
    profits = [row["net_profit"] for row in rows]
    assert profits == sorted(profits)


def test_question_2_is_the_profit_map_and_adds_up_to_the_waterfall(
    published: duckdb.DuckDBPyConnection,
) -> None:
    rows = answer(published, "02_profit_map.sql")
    period = latest(published, "profit_map")
    cells = published.execute(
        "select count(*) from marts.profit_map where as_of_period = ?", [period]
    ).fetchall()[0][0]
    assert len(rows) == cells > 0
    assert {row["segment"] for row in rows} <= {"profit_peak", "profit_drain", "profit_desert"}
    assert abs(sum(row["share_of_profit"] for row in rows) - 1) < 1e-9
    company = published.execute(
        """
        select customers, net_revenue, net_profit from marts.price_waterfall
        where as_of_period = ? and segment = 'company'
        """,
        [period],
    ).fetchall()
    assert len(company) == 1
    customers, revenue, net_profit = company[0]
    assert sum(row["customers"] for row in rows) == customers
    assert abs(sum(row["revenue"] for row in rows) - revenue) < CENT
    assert abs(sum(row["net_profit"] for row in rows) - net_profit) < CENT


def test_question_3_savings_are_the_let_go_scenarios(
    published: duckdb.DuckDBPyConnection,
) -> None:
    rows = answer(published, "03_let_go_savings.sql")
    period = latest(published, "let_go_scenarios")
    scenarios = {
        scenario: (customers, after - before)
        for scenario, customers, before, after in published.execute(
            """
            select scenario, customers, profit_before, profit_after
            from marts.let_go_scenarios where as_of_period = ?
            """,
            [period],
        ).fetchall()
    }
    assert {row["scenario"]: (row["customers"], row["profit_change"]) for row in rows} == scenarios
    for row in rows:
        # fixed costs stay behind: the change is the contribution given up
        assert abs(row["profit_change"] + row["contribution_lost"]) < CENT
    bottom_quartile = answer(published, "01_bottom_desert_quartile.sql")
    by_scenario = {row["scenario"]: row for row in rows}
    assert by_scenario["bottom_desert_quartile_all"]["customers"] == len(bottom_quartile)
    changes = [row["profit_change"] for row in rows]
    assert changes == sorted(changes, reverse=True)


def test_question_4_shows_each_family_s_best_skus_first(
    published: duckdb.DuckDBPyConnection,
) -> None:
    rows = answer(published, "04_skus_to_show_first.sql")
    families = {
        family
        for (family,) in published.execute(
            "select distinct product_family from marts.dim_products"
        ).fetchall()
    }
    assert {row["product_family"] for row in rows if row["rank_in_family"] == 1} == families
    assert all(1 <= row["rank_in_family"] <= 3 and row["product_name"] for row in rows)
    period = latest(published, "product_rankings")
    for row in rows:
        if row["ranked_by"] == "sales" and row["rank_in_family"] > 1:
            better = published.execute(
                """
                select net_profit_per_unit from marts.product_rankings
                where as_of_period = ? and product_family = ? and rank_in_family = ?
                """,
                [period, row["product_family"], row["rank_in_family"] - 1],
            ).fetchall()[0][0]
            assert better >= row["net_profit_per_unit"]


def test_question_5_lists_the_reps_with_desert_accounts(
    published: duckdb.DuckDBPyConnection,
) -> None:
    rows = answer(published, "05_reps_carrying_the_desert.sql")
    period = latest(published, "rep_workload")
    desert_rows = published.execute(
        """
        select count(*), sum(customers) from marts.rep_workload
        where as_of_period = ? and segment = 'profit_desert' and rep_id is not null
        """,
        [period],
    ).fetchall()[0]
    assert (len(rows), sum(row["desert_customers"] for row in rows)) == desert_rows
    assert len(rows) > 0
    deserts = published.execute(
        """
        select count(*) from marts.customer_segments
        where as_of_period = ? and segment = 'profit_desert'
        """,
        [period],
    ).fetchall()[0][0]
    assert sum(row["desert_customers"] for row in rows) <= deserts
    for row in rows:
        assert row["desert_accounts_to_move"] <= row["desert_customers"]
        assert row["minutes_freed"] <= row["sales_minutes"]
        if row["sales_minutes"]:
            hours = row["sales_minutes"] / 60
            assert abs(row["net_profit_per_sales_hour"] - float(row["net_profit"]) / hours) < 0.01
    minutes = [row["sales_minutes"] for row in rows]
    assert minutes == sorted(minutes, reverse=True)
