"""The profit report: one static HTML page per as-of period with the HBR charts.

    <reports>/<UTC time>-<run>/profit_report.html            the latest as-of period
    <reports>/<UTC time>-<run>/profit_report_<YYYY-MM>.html  an earlier one (`oasis report
                                                             --as-of`), linked from the page

Read from the published warehouse (`<warehouse>.published.duckdb`), the copy BI tools read:
the page shows exactly what they see. DuckDB aggregates; Python only receives the few
hundred rows a chart draws (a profit map is 12 cells, a whale curve is thinned to at most
`WHALE_CURVE_POINTS` points).

Why Vega-Lite (Altair) rendered by vl-convert to inline SVG: the page holds no script at
all, so it opens from a file share, prints, and cannot fetch anything; a headless browser
sees real <svg> elements. Measured on the default demo (800 customers, 24 months): the
latest page is 264 KB (six charts, 24 as-of periods in the trend), the page 12 months
earlier 188 KB (no migration chart: no as-of period 12 months before it). The two take
5 to 10 s alone on these machines, 29 s while seven test runs shared the two cores, nearly
all of it vl-convert; the dbt docs site of the same step takes ~30 s more (3.5 MB).
Plotly would
inline its JavaScript bundle (megabytes) into every page and draw only in a browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.html import render, write_text
from pipelines.profit_charts import (
    SEGMENT_LABELS,
    cost_to_serve_chart,
    migration_chart,
    price_waterfall_chart,
    profit_map_chart,
    render_svg,
    trend_chart,
    whale_curve_chart,
)

REPORT_FILE = "profit_report.html"
# The whale curve's points drawn: 800 customers draw as well with 400 (every other rank),
# and 20,000 would make an SVG of ~2 MB.
WHALE_CURVE_POINTS = 400
# Rows of each top list: a page, not a data dump (the marts have every customer).
TOP_LIST_ROWS = 10
# The components of cost to serve (customer_profitability: freight_cost + pool_cost_total
# + carrying_cost + bad_debt, the pools grouped into five components by
# the seed cost_drivers).
COST_COMPONENTS = (
    ("freight_cost", "Freight"),
    ("order_handling_cost", "Order handling"),
    ("picking_and_shipping_cost", "Picking and shipping"),
    ("returns_cost", "Returns"),
    ("service_cost", "Service"),
    ("sales_cost", "Sales"),
    ("carrying_cost", "Carrying"),
    ("bad_debt", "Bad debt"),
)
# The steps of marts.price_waterfall, from list price to net profit, and their sign (the
# mart books costs and deductions positive; net_revenue is a subtotal, not a step).
WATERFALL_STEPS = (
    ("gross_revenue", "List revenue", 1),
    ("discount", "Discount", -1),
    ("returns_credited", "Returns credited", -1),
    ("other_revenue", "Other revenue", 1),
    ("cogs", "COGS", -1),
    ("freight_cost", "Freight", -1),
    ("order_handling_cost", "Order handling", -1),
    ("picking_and_shipping_cost", "Picking and shipping", -1),
    ("returns_cost", "Returns", -1),
    ("service_cost", "Service", -1),
    ("sales_cost", "Sales", -1),
    ("carrying_cost", "Carrying", -1),
    ("bad_debt", "Bad debt", -1),
)
_SEGMENT_ORDER_SQL = "case segment when 'profit_peak' then 1 when 'profit_drain' then 2 else 3 end"


class UnknownPeriod(ValueError):
    """An as-of period the warehouse has no profit map for."""


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    explanation: str
    svg: str | None
    table: dict[str, Any] | None = None
    missing: str | None = None


def as_of_periods(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """Every as-of period of the profit map, newest first."""
    return [
        period
        for (period,) in connection.execute(
            "select distinct as_of_period from marts.profit_map order by as_of_period desc"
        ).fetchall()
    ]


def report_file_name(as_of_period: str, latest: str) -> str:
    return REPORT_FILE if as_of_period == latest else f"profit_report_{as_of_period}.html"


def write_profit_reports(
    published: Path, folder: Path, earlier: list[str] | None = None
) -> list[Path]:
    """Writes into `folder` the pages of the `earlier` as-of periods (by default the one
    12 months before the latest, the period segment migration compares with), then the
    latest's, which links to them; returns their paths, the latest's first. One page takes
    ~2 s (vl-convert), so a run writes two, not 24; `oasis report --as-of` writes others."""
    with duckdb.connect(str(published), read_only=True) as connection:
        periods = as_of_periods(connection)
        if not periods:
            raise UnknownPeriod(f"{published} has no profit map: no run has published yet")
        if earlier is None:
            earlier = [period for period in periods if period == _months_before(periods[0], 12)]
        unknown = [period for period in earlier if period not in periods]
        if unknown:
            raise UnknownPeriod(
                f"{published} has no as-of period {', '.join(unknown)}: its profit map has "
                f"{periods[-1]} to {periods[0]}"
            )
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for period in [*(p for p in earlier if p != periods[0]), periods[0]]:
            path = folder / report_file_name(period, periods[0])
            write_text(path, render_profit_report(connection, period, periods, folder))
            paths.append(path)
    return [paths[-1], *paths[:-1]]


def _months_before(period: str, months: int) -> str:
    year, month = (int(part) for part in period.split("-"))
    index = year * 12 + month - 1 - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def render_profit_report(
    connection: duckdb.DuckDBPyConnection, period: str, periods: list[str], folder: Path
) -> str:
    tables = _mart_names(connection)
    profit_map = _rows(
        connection,
        f"""
        select segment, quartile, customers, round(net_profit, 2) as net_profit,
            round(profit_per_customer, 2) as profit_per_customer, round(revenue, 2) as revenue,
            share_of_profit
        from marts.profit_map
        where as_of_period = ?
        order by {_SEGMENT_ORDER_SQL}, quartile
        """,
        [period],
    )
    peak = _rows(
        connection,
        """
        select customer_rank, cumulative_customer_share, cumulative_profit_share
        from marts.whale_curve
        where as_of_period = ?
        order by cumulative_profit_share desc, customer_rank
        limit 1
        """,
        [period],
    )[0]
    sections = [
        Section(
            "profit-map",
            "Profit map",
            "One bar per segment and quartile (quartile 1 the most profitable): net profit "
            "over the 12 months to the as-of period, with customers and profit per customer "
            "written on each bar.",
            render_svg(profit_map_chart(profit_map)),
            _table(
                ("Segment", "Quartile", "Customers", "Revenue", "Net profit", "Per customer"),
                [
                    (
                        SEGMENT_LABELS[row["segment"]],
                        row["quartile"],
                        row["customers"],
                        row["revenue"],
                        row["net_profit"],
                        row["profit_per_customer"],
                    )
                    for row in profit_map
                ],
                keys=[f"{row['segment']}-{row['quartile']}" for row in profit_map],
            ),
        ),
        _whale_section(connection, period, peak),
        _waterfall_section(connection, period, tables),
        _migration_section(connection, period),
        _trend_section(connection),
        _cost_to_serve_section(connection, period),
    ]
    top_lists = _top_lists(connection, period, tables)
    others = [
        {"period": other, "file": report_file_name(other, periods[0])}
        for other in periods
        if other not in (period, periods[0])
    ]
    return render(
        "profit_report.html.j2",
        title=f"Oasis profit report, 12 months to {period}",
        period=period,
        latest=periods[0],
        earlier=[other for other in others if (folder / other["file"]).exists()],
        first=periods[-1],
        sections=sections,
        top_lists=top_lists,
        peak=peak,
    )


def _whale_section(connection, period: str, peak: dict[str, Any]) -> Section:
    (customers,) = connection.execute(
        "select count(*) from marts.whale_curve where as_of_period = ?", [period]
    ).fetchone()
    step = max(1, -(-customers // WHALE_CURVE_POINTS))
    curve = _rows(
        connection,
        """
        select cumulative_customer_share, cumulative_profit_share
        from marts.whale_curve
        where as_of_period = ? and (customer_rank % ? = 0 or customer_rank in (1, ?, ?))
        order by customer_rank
        """,
        [period, step, peak["customer_rank"], customers],
    )
    return Section(
        "whale-curve",
        "Whale curve",
        f"Cumulative net profit, as a share of the total, against the share of customers "
        f"ranked by net profit. It peaks at {peak['cumulative_profit_share']:.1%} of total "
        f"profit with the top {peak['cumulative_customer_share']:.1%} of customers "
        f"({peak['customer_rank']:,} customers); the rest give back the difference down "
        "to the 100% line.",
        render_svg(whale_curve_chart(curve, peak)),
    )


def _waterfall_section(connection, period: str, tables: set[str]) -> Section:
    title = "Price waterfall per segment"
    explanation = (
        "Per customer, from list revenue to net profit, step by step, for each segment "
        "(marts.price_waterfall)."
    )
    if "price_waterfall" not in tables:
        return Section(
            "price-waterfall",
            title,
            explanation,
            None,
            missing="This warehouse has no marts.price_waterfall (an older run).",
        )
    columns = ", ".join(f"sum({name}) / sum(customers) as {name}" for name, _, _ in WATERFALL_STEPS)
    rows = _rows(
        connection,
        f"""
        select segment, {columns}, sum(net_profit) / sum(customers) as net_profit
        from marts.price_waterfall
        where as_of_period = ? and segment <> 'company'
        group by segment
        order by {_SEGMENT_ORDER_SQL}
        """,
        [period],
    )
    return Section(
        "price-waterfall",
        title,
        explanation,
        render_svg(price_waterfall_chart(rows, WATERFALL_STEPS)),
    )


def _migration_section(connection, period: str) -> Section:
    flows = _rows(
        connection,
        f"""
        select from_segment, from_quartile, to_segment, to_quartile, customers,
            earlier_as_of_period
        from marts.segment_migration
        where as_of_period = ?
        order by {_SEGMENT_ORDER_SQL.replace("segment", "from_segment")}, from_quartile,
            {_SEGMENT_ORDER_SQL.replace("segment", "to_segment")}, to_quartile
        """,
        [period],
    )
    earlier = flows[0]["earlier_as_of_period"] if flows else None
    return Section(
        "segment-migration",
        "Segment migration over 12 months",
        (
            f"Customers by segment and quartile in {earlier} (rows) and in {period} "
            "(columns): the diagonal stayed, the rest moved."
            if earlier
            else "No as-of period 12 months earlier: nothing to compare."
        ),
        render_svg(migration_chart(flows)) if flows else None,
        missing=None if flows else "No customer has an as-of period 12 months earlier.",
    )


def _trend_section(connection) -> Section:
    trend = _rows(
        connection,
        f"""
        select as_of_period, segment, sum(customers) as customers,
            round(sum(net_profit), 2) as net_profit
        from marts.profit_map
        group by as_of_period, segment
        order by as_of_period, {_SEGMENT_ORDER_SQL}
        """,
    )
    return Section(
        "trend",
        "Net profit and customers per segment, every as-of period",
        "Each point is the 12 months to its as-of period.",
        render_svg(trend_chart(trend)),
    )


def _cost_to_serve_section(connection, period: str) -> Section:
    averages = ", ".join(f"avg({name}) as {name}" for name, _ in COST_COMPONENTS)
    rows = _rows(
        connection,
        f"""
        select
            case when segments.segment = 'profit_peak' then 'Profit peaks'
                else 'Bottom desert quartile' end as cell,
            count(*) as customers, {averages}
        from marts.customer_profitability as profitability
        inner join marts.customer_segments as segments
            on profitability.customer_id = segments.customer_id
            and profitability.as_of_period = segments.as_of_period
        where profitability.as_of_period = ?
            and (segments.segment = 'profit_peak'
                or (segments.segment = 'profit_desert' and segments.quartile = 4))
        group by all
        order by cell desc
        """,
        [period],
    )
    return Section(
        "cost-to-serve",
        "Cost to serve by component: bottom desert quartile against the peaks",
        "Average cost to serve per customer over the 12 months, by component.",
        render_svg(cost_to_serve_chart(rows, COST_COMPONENTS)),
        _table(
            ("Component", *(row["cell"] for row in rows)),
            [(label, *(row[name] for row in rows)) for name, label in COST_COMPONENTS],
        ),
    )


def _top_lists(connection, period: str, tables: set[str]) -> list[dict[str, Any]]:
    # A warehouse published before marts.dim_customers existed shows ids for names.
    name = (
        "coalesce(names.customer_name, flags.customer_id)"
        if "dim_customers" in tables
        else "flags.customer_id"
    )
    name_join = (
        "left join marts.dim_customers as names on flags.customer_id = names.customer_id"
        if "dim_customers" in tables
        else ""
    )

    def listed(where: str, order: str) -> list[tuple]:
        return connection.execute(
            f"""
            select flags.customer_id, {name} as name, flags.segment, flags.quartile,
                round(flags.revenue, 2), round(flags.cost_to_serve, 2),
                round(flags.net_profit, 2)
            from marts.customer_policy_flags as flags
            {name_join}
            where flags.as_of_period = ? {where}
            order by {order}, flags.customer_id
            limit {TOP_LIST_ROWS}
            """,
            [period],
        ).fetchall()

    header = ("Customer", "Name", "Segment", "Quartile", "Revenue", "Cost to serve", "Net profit")
    scenarios = connection.execute(
        """
        select description, customers, round(revenue_lost, 2), round(contribution_lost, 2),
            round(fixed_cost_left_behind, 2), round(profit_before, 2), round(profit_after, 2),
            round(profit_after - profit_before, 2)
        from marts.let_go_scenarios
        where as_of_period = ?
        order by profit_after - profit_before desc, scenario
        """,
        [period],
    ).fetchall()
    return [
        {
            "anchor": "most-profitable",
            "title": "Most profitable customers",
            "table": _table(header, listed("", "flags.net_profit desc")),
        },
        {
            "anchor": "most-costly",
            "title": "Most costly customers to serve",
            "table": _table(header, listed("", "flags.cost_to_serve desc")),
        },
        {
            "anchor": "value-destroyers",
            "title": "Value destroyers (largest losses first)",
            "table": _table(header, listed("and flags.is_value_destroyer", "flags.net_profit")),
        },
        {
            "anchor": "let-go",
            "title": "What letting go would gain",
            "table": _table(
                (
                    "Scenario",
                    "Customers",
                    "Revenue lost",
                    "Contribution lost",
                    "Fixed cost left behind",
                    "Profit before",
                    "Profit after",
                    "Gain",
                ),
                scenarios,
            ),
        },
    ]


def _mart_names(connection) -> set[str]:
    return {
        name
        for (name,) in connection.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    }


def _rows(connection, sql: str, parameters: list | None = None) -> list[dict[str, Any]]:
    cursor = connection.execute(sql, parameters or [])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _table(
    header: tuple[str, ...], rows: list[tuple], keys: list[str] | None = None
) -> dict[str, Any]:
    return {"header": header, "rows": rows, "keys": keys or [None] * len(rows)}
