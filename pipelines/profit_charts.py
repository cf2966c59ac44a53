"""The profit report's charts as Vega-Lite specs (Altair), rendered to SVG by vl-convert:
no browser, no network, no script in the page (pipelines/profit_report.py says why)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import altair as alt
import vl_convert

SEGMENT_LABELS = {
    "profit_peak": "Profit peaks",
    "profit_drain": "Profit drains",
    "profit_desert": "Profit deserts",
}
_SEGMENTS = list(SEGMENT_LABELS.values())
_COLOURS = alt.Scale(domain=_SEGMENTS, range=["#1f7a3f", "#c7821b", "#a61b1b"])
# The Vega-Lite version Altair writes its specs for, which vl-convert must render.
_VEGA_LITE = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
_WIDTH = 760


def render_svg(chart: alt.TopLevelMixin) -> str:
    return vl_convert.vegalite_to_svg(chart.to_dict(), vl_version=_VEGA_LITE)


def start_renderer() -> None:
    """vl-convert starts its JavaScript engine at its first chart (0.6 s, then 40 ms a
    chart): one empty chart starts it (orchestration/warm_up.py)."""
    render_svg(alt.Chart(alt.Data(values=[])).mark_point())


def _values(rows: list[dict[str, Any]]) -> alt.Data:
    """JSON values: Decimal money as float (a chart draws, the tables beside it print cents)."""
    return alt.Data(
        values=[
            {
                key: float(value) if isinstance(value, Decimal) else value
                for key, value in row.items()
            }
            for row in rows
        ]
    )


# The profit map's captions: pixels per line, and between a bar's end and its caption.
_CAPTION_LINE, _CAPTION_GAP = 12, 4


def profit_map_chart(cells: list[dict[str, Any]]) -> alt.LayerChart:
    rows = [
        {
            **cell,
            "segment_label": SEGMENT_LABELS[cell["segment"]],
            "cell": f"{SEGMENT_LABELS[cell['segment']]} Q{cell['quartile']}",
            "caption": f"{cell['customers']:,} customers\n"
            f"{float(cell['profit_per_customer']):,.0f} each",
        }
        for cell in cells
    ]
    order = [row["cell"] for row in rows]
    base = alt.Chart(_values(rows)).encode(
        x=alt.X("cell:N", sort=order, title=None, axis=alt.Axis(labelAngle=-35)),
        # Room beyond the longest bars for their two-line captions.
        y=alt.Y(
            "net_profit:Q",
            title="Net profit, 12 months",
            scale=alt.Scale(padding=_CAPTION_LINE * 2 + _CAPTION_GAP),
        ),
    )
    bars = base.mark_bar().encode(
        color=alt.Color("segment_label:N", scale=_COLOURS, title="Segment"),
        tooltip=["cell:N", "customers:Q", "net_profit:Q", "profit_per_customer:Q"],
    )
    # A caption sits beyond its bar's end: above a gain, below a loss. Vega draws the
    # lines of a text downwards from its first, so above a bar the first line starts a
    # line higher.
    caption = {"fontSize": 10, "lineBreak": "\n", "lineHeight": _CAPTION_LINE}
    above = base.transform_filter(alt.datum.net_profit >= 0).mark_text(
        baseline="bottom", dy=-(_CAPTION_GAP + _CAPTION_LINE), **caption
    )
    below = base.transform_filter(alt.datum.net_profit < 0).mark_text(
        baseline="top", dy=_CAPTION_GAP, **caption
    )
    return alt.layer(
        bars, above.encode(text="caption:N"), below.encode(text="caption:N")
    ).properties(width=_WIDTH, height=320)


def whale_curve_chart(curve: list[dict[str, Any]], peak: dict[str, Any]) -> alt.LayerChart:
    line = (
        alt.Chart(_values(curve))
        .mark_line(color="#1a4f9c", strokeWidth=2)
        .encode(
            x=alt.X(
                "cumulative_customer_share:Q",
                title="Customers, most profitable first",
                axis=alt.Axis(format="%"),
            ),
            y=alt.Y(
                "cumulative_profit_share:Q",
                title="Cumulative net profit",
                axis=alt.Axis(format="%"),
            ),
        )
    )
    hundred = (
        alt.Chart(_values([{"y": 1.0}]))
        .mark_rule(strokeDash=[4, 4], color="#5b6472")
        .encode(y="y:Q")
    )
    marker = {
        **peak,
        "label": f"peak {float(peak['cumulative_profit_share']):.0%} at "
        f"{float(peak['cumulative_customer_share']):.0%} of customers",
    }
    peak_layer = alt.Chart(_values([marker])).encode(
        x="cumulative_customer_share:Q", y="cumulative_profit_share:Q"
    )
    return alt.layer(
        line,
        hundred,
        peak_layer.mark_point(size=90, color="#a61b1b", filled=True),
        peak_layer.mark_text(align="left", dx=8, dy=-8, color="#a61b1b").encode(text="label:N"),
    ).properties(width=_WIDTH, height=320)


def price_waterfall_chart(
    segments: list[dict[str, Any]], steps: tuple[tuple[str, str, int], ...]
) -> alt.FacetChart:
    rows = []
    for segment in segments:
        level = 0.0
        for order, (name, label, sign) in enumerate(steps):
            amount = sign * float(segment[name] or 0)
            rows.append(
                {
                    "segment": SEGMENT_LABELS[segment["segment"]],
                    "order": order,
                    "step": label,
                    "start": level,
                    "end": level + amount,
                    "kind": "up" if amount >= 0 else "down",
                }
            )
            level += amount
        rows.append(
            {
                "segment": SEGMENT_LABELS[segment["segment"]],
                "order": len(steps),
                "step": "Net profit",
                "start": 0.0,
                "end": float(segment["net_profit"]),
                "kind": "total",
            }
        )
    labels = [label for _, label, _ in steps] + ["Net profit"]
    return (
        alt.Chart(_values(rows))
        .mark_bar()
        .encode(
            x=alt.X("step:N", sort=labels, title=None, axis=alt.Axis(labelAngle=-40)),
            y=alt.Y("start:Q", title="Per customer, 12 months"),
            y2="end:Q",
            color=alt.Color(
                "kind:N",
                scale=alt.Scale(
                    domain=["up", "down", "total"], range=["#1f7a3f", "#a61b1b", "#1a4f9c"]
                ),
                legend=None,
            ),
        )
        .properties(width=230, height=260)
        .facet(column=alt.Column("segment:N", sort=_SEGMENTS, title=None))
        .resolve_scale(y="independent")
    )


def migration_label(segment: str, quartile: int | None) -> str:
    """ "Profit peaks Q1"; segment_migration's 'new' and 'lost' have no quartile."""
    if quartile is None:
        return segment.capitalize()
    return f"{SEGMENT_LABELS[segment]} Q{quartile}"


def migration_chart(flows: list[dict[str, Any]]) -> alt.LayerChart:
    rows = [
        {
            "from": migration_label(flow["from_segment"], flow["from_quartile"]),
            "to": migration_label(flow["to_segment"], flow["to_quartile"]),
            "customers": flow["customers"],
        }
        for flow in flows
    ]
    order = [
        "New",
        *(f"{label} Q{quartile}" for label in _SEGMENTS for quartile in (1, 2, 3, 4)),
        "Lost",
    ]
    base = alt.Chart(_values(rows)).encode(
        x=alt.X("to:N", sort=order, title="Now", axis=alt.Axis(labelAngle=-40)),
        y=alt.Y("from:N", sort=order, title="12 months earlier"),
    )
    return alt.layer(
        base.mark_rect().encode(
            color=alt.Color("customers:Q", scale=alt.Scale(scheme="blues"), title="Customers")
        ),
        base.mark_text(fontSize=10).encode(text="customers:Q"),
    ).properties(width=560, height=420)


def trend_chart(trend: list[dict[str, Any]]) -> alt.VConcatChart:
    rows = [{**row, "segment": SEGMENT_LABELS[row["segment"]]} for row in trend]
    base = alt.Chart(_values(rows)).encode(
        x=alt.X("as_of_period:O", title="As of", axis=alt.Axis(labelAngle=-50)),
        color=alt.Color("segment:N", scale=_COLOURS, title="Segment"),
    )
    profit = base.mark_line(point=True).encode(y=alt.Y("net_profit:Q", title="Net profit"))
    customers = base.mark_line(point=True).encode(y=alt.Y("customers:Q", title="Customers"))
    return alt.vconcat(
        profit.properties(width=_WIDTH, height=220), customers.properties(width=_WIDTH, height=160)
    )


def cost_to_serve_chart(
    cells: list[dict[str, Any]], components: tuple[tuple[str, str], ...]
) -> alt.Chart:
    rows = [
        {"cell": cell["cell"], "component": label, "position": position, "cost": cell[name]}
        for cell in cells
        for position, (name, label) in enumerate(components)
    ]
    return (
        alt.Chart(_values(rows))
        .mark_bar()
        .encode(
            y=alt.Y("cell:N", title=None),
            x=alt.X("sum(cost):Q", title="Average cost to serve per customer, 12 months"),
            color=alt.Color(
                "component:N",
                sort=[label for _, label in components],
                scale=alt.Scale(scheme="tableau10"),
                title="Component",
            ),
            # Stacked in the order of the legend, freight first.
            order=alt.Order("position:Q"),
        )
        .properties(width=_WIDTH - 140, height=120)
    )
