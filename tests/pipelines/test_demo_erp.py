"""The demo ERP writes a complete, consistent and deterministic extract of the contract."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from pipelines.contract import DRIVERS, TABLES
from pipelines.demo.company import OPEN_PERIOD_DAYS
from pipelines.demo.erp import DemoSummary, write_demo_erp
from tests.conftest import extract_views

CUSTOMERS = 80
MONTHS = 13
SEED = 3
MONTHLY_TABLES = [name for name in TABLES if name not in ("customers", "products")]
PERIOD_TABLES = ("cost_pools", "gl_summary")  # dated by their period column, closed months only


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return write_demo_erp(
        tmp_path_factory.mktemp("parquet"), customers=CUSTOMERS, months=MONTHS, seed=SEED
    )


@pytest.fixture(scope="module")
def demo_csv(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return write_demo_erp(
        tmp_path_factory.mktemp("csv"),
        customers=CUSTOMERS,
        months=MONTHS,
        seed=SEED,
        file_format="csv",
    )


@pytest.fixture(scope="module")
def con(demo: DemoSummary) -> duckdb.DuckDBPyConnection:
    return extract_views(demo.out_dir)


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def scalar(con: duckdb.DuckDBPyConnection, sql: str):
    return rows(con, sql)[0][0]


def read_all(out_dir: Path) -> dict[str, list[dict]]:
    return {
        name: pq.read_table(sorted((out_dir / name).glob("*.parquet"))).to_pylist()
        for name in TABLES
    }


def test_same_seed_writes_identical_data_and_another_seed_differs(demo, tmp_path):
    again = write_demo_erp(tmp_path / "again", customers=CUSTOMERS, months=MONTHS, seed=SEED)
    other = write_demo_erp(tmp_path / "other", customers=CUSTOMERS, months=MONTHS, seed=SEED + 1)

    original = read_all(demo.out_dir)
    assert read_all(again.out_dir) == original
    assert again.stories == demo.stories
    different = read_all(other.out_dir)
    assert different["invoice_lines"] != original["invoice_lines"]
    assert different["customers"] != original["customers"]


@pytest.mark.parametrize("extract", ["demo", "demo_csv"])
def test_every_contract_table_has_the_contract_columns_in_order(extract, request):
    summary: DemoSummary = request.getfixturevalue(extract)
    extension = "csv" if extract == "demo_csv" else "parquet"
    connection = duckdb.connect()
    for name, table in TABLES.items():
        files = f"{summary.out_dir / name}/*.{extension}"
        reader = "read_csv" if extension == "csv" else "read_parquet"
        columns = [
            c[0]
            for c in connection.execute(f"describe select * from {reader}('{files}')").fetchall()
        ]
        assert columns == table.column_names, name
        assert summary.rows[name] > 0, name


def test_csv_and_parquet_hold_the_same_values(con, demo_csv):
    """CSV: header, comma, ISO dates, '.' decimals, empty field = null, same values."""
    for name, table in TABLES.items():
        typed = ", ".join(f"{c.name}::{c.warehouse_type}" for c in table.columns)
        from_csv = f"""select {typed} from read_csv('{demo_csv.out_dir / name}/*.csv',
            header = true, delim = ',', all_varchar = true)"""
        from_parquet = f"select {', '.join(table.column_names)} from {name}"
        differences = f"""select count(*) from (
            ({from_csv} except all {from_parquet})
            union all ({from_parquet} except all {from_csv}))"""
        assert scalar(con, differences) == 0, name


def test_monthly_tables_have_one_file_per_month_holding_that_month(demo, con):
    closed, open_period = demo.closed_periods, demo.open_period
    assert len(closed) == MONTHS
    assert open_period > closed[-1]
    for name in MONTHLY_TABLES:
        periods = closed if name in PERIOD_TABLES else (*closed, open_period)
        files = sorted(p.name for p in (demo.out_dir / name).iterdir())
        assert files == [f"{name}-{period}.parquet" for period in periods], name

        if name in PERIOD_TABLES:
            month = "period"
        elif name == "invoice_lines":
            month = "(select strftime(invoice_date, '%Y-%m') from invoices i "
            month += "where i.invoice_id = invoice_lines.invoice_id)"
        else:
            month = f"strftime({TABLES[name].date_column}, '%Y-%m')"
        misfiled = f"select count(*) from {name} where filename not like '%' || {month} || '%'"
        assert scalar(con, misfiled) == 0, name


def test_dimensions_are_single_files(demo):
    for name in ("customers", "products"):
        assert [p.name for p in (demo.out_dir / name).iterdir()] == [f"{name}.parquet"]


def test_keys_are_unique_and_foreign_keys_resolve(con):
    for name, table in TABLES.items():
        key = ", ".join(table.key)
        duplicates = (
            f"select count(*) from (select {key} from {name} group by all having count(*) > 1)"
        )
        assert scalar(con, duplicates) == 0, name
        for fk in table.foreign_keys:
            match = " and ".join(
                f"t.{col} = p.{parent_col}"
                for col, parent_col in zip(fk.columns, fk.table_columns, strict=True)
            )
            dangling = f"select count(*) from {name} t anti join {fk.table} p on {match}"
            assert scalar(con, dangling) == 0, f"{name} -> {fk.table}"


def test_text_columns_stay_in_their_contract_domains(con):
    for name, table in TABLES.items():
        for column in table.columns:
            if column.domain:
                allowed = ", ".join(f"'{value}'" for value in column.domain)
                outside = rows(
                    con,
                    f"select distinct {column.name} from {name} "
                    f"where {column.name} not in ({allowed})",
                )
                assert outside == [], f"{name}.{column.name}"


def test_required_columns_are_never_null(con):
    for name, table in TABLES.items():
        for column in table.columns:
            if not column.nullable:
                nulls = scalar(con, f"select count(*) from {name} where {column.name} is null")
                assert nulls == 0, f"{name}.{column.name}"


def test_money_is_in_whole_cents_and_lines_are_priced_below_list(con):
    for name, column in [
        ("invoice_lines", "unit_price"),
        ("invoice_lines", "unit_cost"),
        ("shipments", "freight_cost"),
        ("payments", "amount"),
        ("returns", "credit_amount"),
        ("cost_pools", "amount"),
    ]:
        assert scalar(con, f"select count(*) from {name} where {column} <> round({column}, 2)") == 0
    assert scalar(con, "select count(*) from products where standard_cost >= list_price") == 0
    discounted_without_code = """select count(*) from invoice_lines
        where (unit_price < unit_list_price) <> (discount_code is not null)"""
    assert scalar(con, discounted_without_code) == 0


def test_every_driver_has_a_pool_in_every_closed_month(demo, con):
    pools = set(rows(con, "select period, driver from cost_pools where amount > 0"))
    assert pools >= {(period, driver) for period in demo.closed_periods for driver in DRIVERS}
    assert (
        scalar(con, "select count(*) from cost_pools where variable_share not between 0 and 1") == 0
    )


def test_customer_service_states_capacity_above_the_minutes_used(con):
    idle = rows(
        con,
        """select p.period, p.capacity_units, sum(s.minutes)
        from cost_pools p join service_contacts s on p.period = strftime(s.contact_ts, '%Y-%m')
        where p.pool = 'customer_service' group by all""",
    )
    assert idle and all(capacity > used for _, capacity, used in idle)
    stated = "select count(*) from cost_pools where capacity_units is not null"
    assert scalar(con, stated) == len(idle)


def test_gl_summary_equals_the_line_and_shipment_totals_to_the_cent(demo, con):
    totals = rows(
        con,
        """with lines as (
            select strftime(i.invoice_date, '%Y-%m') as period,
                sum(l.quantity * l.unit_price) as net_revenue,
                sum(l.quantity * coalesce(l.unit_cost, p.standard_cost)) as cogs
            from invoice_lines l join invoices i using (invoice_id) join products p using (sku)
            group by 1),
        freight as (
            select strftime(i.invoice_date, '%Y-%m') as period, sum(s.freight_cost) as freight_cost
            from shipments s join invoices i using (invoice_id) group by 1)
        select g.period, g.account, g.amount,
            case g.account when 'net_revenue' then l.net_revenue when 'cogs' then l.cogs
                else f.freight_cost end as from_facts
        from gl_summary g join lines l using (period) join freight f using (period)""",
    )
    assert len(totals) == 3 * len(demo.closed_periods)
    assert [(p, a) for p, a, ledger, facts in totals if ledger != facts] == []


def test_returns_never_exceed_what_the_line_sold_minus_earlier_returns(con):
    over_returned = """select count(*) from (
        select r.quantity, l.quantity as sold,
            sum(r.quantity) over (partition by r.invoice_id, r.line_number
                order by r.return_date, r.return_id) as returned_so_far
        from returns r join invoice_lines l using (invoice_id, line_number))
        where returned_so_far > sold"""
    assert scalar(con, over_returned) == 0
    before_sale = """select count(*) from returns r join invoices i using (invoice_id)
        where r.return_date < i.invoice_date"""
    assert scalar(con, before_sale) == 0


def test_returns_have_all_three_dispositions_and_some_cross_months(con):
    dispositions = rows(con, "select distinct disposition from returns order by 1")
    assert dispositions == [("keep",), ("restock",), ("scrap",)]
    later_month = """select count(*) from returns r join invoices i using (invoice_id)
        where strftime(r.return_date, '%Y-%m') > strftime(i.invoice_date, '%Y-%m')"""
    assert scalar(con, later_month) > 0
    assert scalar(con, "select count(*) from returns where restocking_fee_charged > 0") > 0


def test_shipments_one_to_three_per_invoice_and_none_for_will_call(demo, con):
    per_invoice = rows(
        con,
        f"""select i.ship_method, min(coalesce(n, 0)), max(coalesce(n, 0))
        from invoices i left join (select invoice_id, count(*) n from shipments group by 1)
            using (invoice_id)
        where strftime(i.invoice_date, '%Y-%m') <> '{demo.open_period}'
        group by 1 order by 1""",
    )
    assert [method for method, _, _ in per_invoice] == ["expedited", "standard", "will_call"]
    for method, fewest, most in per_invoice:
        assert (fewest, most) == (0, 0) if method == "will_call" else 1 <= fewest <= most <= 3


def test_open_period_has_a_few_days_of_facts_but_no_pools_or_ledger(demo, con):
    open_period = demo.open_period
    for name in ("invoices", "invoice_lines", "shipments", "payments", "service_contacts"):
        assert (demo.out_dir / name / f"{name}-{open_period}.parquet").exists(), name
    invoice_days = rows(
        con,
        f"""select min(day(invoice_date)), max(day(invoice_date)), count(*) from invoices
        where strftime(invoice_date, '%Y-%m') = '{open_period}'""",
    )[0]
    assert invoice_days[2] > 0 and invoice_days[1] <= OPEN_PERIOD_DAYS
    assert scalar(con, f"select count(*) from cost_pools where period = '{open_period}'") == 0
    assert scalar(con, f"select count(*) from gl_summary where period = '{open_period}'") == 0
    # Payments of closed months' invoices dated after the as-of date: the pipeline ignores them.
    paid_after_as_of = f"""select count(*) from payments p join invoices i using (invoice_id)
        where strftime(p.payment_date, '%Y-%m') = '{open_period}'
          and strftime(i.invoice_date, '%Y-%m') < '{open_period}'"""
    assert scalar(con, paid_after_as_of) > 0


def test_some_invoices_are_still_open_and_a_few_written_off(con):
    unpaid = """select count(*) from invoices i left join payments p using (invoice_id)
        where p.invoice_id is null"""
    assert scalar(con, unpaid) > 0
    assert scalar(con, "select count(*) from payments where kind = 'write_off'") > 0


def test_stories_name_existing_customers_reps_skus_families_and_channels(demo, con):
    customers = {c for (c,) in rows(con, "select customer_id from customers")}
    reps = {r for (r,) in rows(con, "select distinct sales_rep_id from invoices")}
    skus = {s for (s,) in rows(con, "select sku from products")}
    families = {f for (f,) in rows(con, "select distinct product_family from products")}
    customer_stories = {
        "project_based_buyers",
        "fast_growers",
        "small_share_of_wallet",
        "return_abusers",
        "profitable_heavy_returners",
        "service_abusers",
    }
    sku_stories = {
        "family_with_profit_spread",
        "backordered_sku_with_better_sibling",
        "cheap_bulky_sku_keep",
        "unclear_instructions_sku",
    }
    rep_stories = {"over_overriding_reps", "reps_with_desert_books"}
    assert set(demo.stories) == (
        customer_stories | sku_stories | rep_stories | {"family_affinities", "referral_channel"}
    )
    for story in customer_stories:
        assert 2 <= len(demo.stories[story]) <= 10, story
        assert set(demo.stories[story]) <= customers, story
    for story in rep_stories:
        assert 2 <= len(demo.stories[story]) <= 10 and set(demo.stories[story]) <= reps, story
    for story in sku_stories:
        assert set(demo.stories[story]) <= skus, story
    pairs = [pair.split(">") for pair in demo.stories["family_affinities"]]
    assert pairs and all(len(p) == 2 and set(p) <= families for p in pairs)
    assert demo.stories["referral_channel"] == ("referral",)
    everyone = [c for story in customer_stories for c in demo.stories[story]]
    assert len(everyone) == len(set(everyone))
    planted_reps = [r for story in rep_stories for r in demo.stories[story]]
    assert len(planted_reps) == len(set(planted_reps))


def test_service_abusers_make_ten_contacts_or_more_on_some_days(demo, con):
    busiest_day = dict(
        rows(
            con,
            """select customer_id, max(n) from (
                select customer_id, contact_ts::date, count(*) as n
                from service_contacts group by all) group by 1""",
        )
    )
    assert all(busiest_day[c] >= 10 for c in demo.stories["service_abusers"])
    others = set(busiest_day) - set(demo.stories["service_abusers"])
    assert all(busiest_day[c] < 10 for c in others)


def test_over_overriding_reps_override_far_more_often(demo, con):
    rate = dict(
        rows(
            con,
            """select i.sales_rep_id, count(o.override_id) / count(distinct i.invoice_id)
            from invoices i left join policy_overrides o on o.invoice_id = i.invoice_id
            where i.sales_rep_id is not null group by 1""",
        )
    )
    flagged = [rate[r] for r in demo.stories["over_overriding_reps"]]
    others = sorted(v for r, v in rate.items() if r not in demo.stories["over_overriding_reps"])
    assert min(flagged) > 2 * others[len(others) // 2]


def test_rerunning_into_the_same_folder_replaces_the_previous_extract(tmp_path):
    first = write_demo_erp(tmp_path, customers=60, months=3, seed=1, file_format="csv")
    second = write_demo_erp(tmp_path, customers=60, months=2, seed=1)
    assert not list(tmp_path.rglob("*.csv"))
    written = {name: len(list((tmp_path / name).iterdir())) for name in TABLES}
    assert written["invoices"] == 3 and written["cost_pools"] == 2
    assert second.rows["customers"] == first.rows["customers"] == 60


def test_progress_reports_every_month(tmp_path):
    messages: list[str] = []
    summary = write_demo_erp(tmp_path, customers=50, months=2, progress=messages.append)
    assert len(messages) == 3
    assert messages[0].startswith(f"{summary.closed_periods[0]}: ")
    assert messages[-1].startswith(f"{summary.open_period}: ")
    assert "invoice lines" in messages[0]


def test_rejects_an_unknown_file_format(tmp_path):
    with pytest.raises(ValueError, match="file_format"):
        write_demo_erp(tmp_path, file_format="xlsx")


def test_an_occasional_share_makes_most_customers_buy_rarely_and_keeps_the_stories(
    demo: DemoSummary, tmp_path: Path
):
    rare = write_demo_erp(
        tmp_path, customers=CUSTOMERS, months=MONTHS, seed=SEED, occasional_share=0.9
    )
    orders = "select count(*) from read_parquet(?) group by customer_id"
    with duckdb.connect() as connection:
        invoices_per_customer = {
            name: sorted(
                count
                for (count,) in connection.execute(
                    orders, [str(summary.out_dir / "invoices" / "*.parquet")]
                ).fetchall()
            )
            for name, summary in (("steady", demo), ("rare", rare))
        }
    # The median customer: a few invoices in 13 months, where it had a dozen or more.
    median = {name: counts[len(counts) // 2] for name, counts in invoices_per_customer.items()}
    assert median["rare"] <= 4 and median["steady"] >= 12, median
    assert rare.stories == demo.stories  # the planted customers buy as before


def test_rejects_an_occasional_share_outside_zero_to_one(tmp_path):
    with pytest.raises(ValueError, match="occasional_share must be between 0 and 1"):
        write_demo_erp(tmp_path, occasional_share=1.5)
