"""Run reports for people: the profit map, the whale curve's headline and what the
load quarantined or left waiting. Reads small marts only; the quarantine goes to CSV
in Arrow batches, never whole through Python."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.audit_report import (
    FAILURE_FILE,
    read_failure,
    run_report_folder,
    write_index,
)
from pipelines.audit_report import SUMMARY_FILE as AUDIT_SUMMARY_FILE
from pipelines.csv_files import write_csv

SEGMENT_ORDER = ("profit_peak", "profit_drain", "profit_desert")


@dataclass(frozen=True)
class ProfitMapCell:
    segment: str
    quartile: int
    customers: int
    revenue: float
    net_profit: float
    profit_per_customer: float
    share_of_profit: float | None


@dataclass(frozen=True)
class RunSummary:
    as_of_period: str | None
    profit_map: list[ProfitMapCell]
    top_fifth_profit_share: float | None
    desert_customer_share: float | None
    quarantined: list[tuple[str, str, int]]
    waiting: list[tuple[str, str, int]]
    cross_sell_quality: CrossSellQuality | None


@dataclass(frozen=True)
class CrossSellQuality:
    """marts.cross_sell_model_quality of the latest as-of period."""

    customers_evaluated: int
    hit_rate: float
    baseline_hit_rate: float
    months: int


def read_run_summary(connection: duckdb.DuckDBPyConnection) -> RunSummary:
    (as_of_period,) = connection.execute(
        "select max(as_of_period) from marts.profit_map"
    ).fetchone()
    cells = [
        ProfitMapCell(*row)
        for row in connection.execute(
            """
            select segment, quartile, customers, revenue, net_profit, profit_per_customer,
                share_of_profit
            from marts.profit_map
            where as_of_period = ?
            order by case segment when 'profit_peak' then 1 when 'profit_drain' then 2 else 3 end,
                quartile
            """,
            [as_of_period],
        ).fetchall()
    ]
    (top_fifth,) = connection.execute(
        """
        select max(cumulative_profit_share)
            filter (where cumulative_customer_share <= 0.2 + 1e-12)
        from marts.whale_curve
        where as_of_period = ?
        """,
        [as_of_period],
    ).fetchone()
    total_customers = sum(cell.customers for cell in cells)
    desert_customers = sum(cell.customers for cell in cells if cell.segment == "profit_desert")
    quarantined = connection.execute(
        """
        select table_name, reason, count(distinct source_file || ':' || source_row)
        from raw.quarantine
        group by table_name, reason
        order by table_name, reason
        """
    ).fetchall()
    waiting = connection.execute(
        "select fact, period, waiting from marts.facts_awaiting_cost_pools order by period, fact"
    ).fetchall()
    # No row in the first cross_sell_quality_months as-of periods (nothing to score yet),
    # and null rates when no customer got a recommendation.
    quality = connection.execute(
        """
        select customers_evaluated, hit_rate, baseline_hit_rate,
            date_diff(
                'month', strptime(model_as_of_period, '%Y-%m'), strptime(as_of_period, '%Y-%m')
            )
        from marts.cross_sell_model_quality
        where as_of_period = ? and customers_evaluated > 0
        """,
        [as_of_period],
    ).fetchall()
    # DuckDB 2.0 leaves a result unfinished after fetchone() of its only row, and the next
    # query on the connection (the quarantine export) then fails: fetch every row (0 or 1).
    quality = quality[0] if quality else None
    return RunSummary(
        as_of_period=as_of_period,
        profit_map=cells,
        top_fifth_profit_share=float(top_fifth) if top_fifth is not None else None,
        desert_customer_share=desert_customers / total_customers if total_customers else None,
        quarantined=quarantined,
        waiting=waiting,
        cross_sell_quality=CrossSellQuality(*quality) if quality else None,
    )


def format_profit_map(summary: RunSummary) -> str:
    header = (
        f"{'segment':<14} {'q':>1} {'customers':>9} {'revenue':>16} {'net profit':>15} "
        f"{'per customer':>13} {'share':>7}"
    )
    lines = [f"Profit map, 12 months to {summary.as_of_period}", header, "-" * len(header)]
    for cell in summary.profit_map:
        share = f"{cell.share_of_profit:7.1%}" if cell.share_of_profit is not None else "      -"
        lines.append(
            f"{cell.segment:<14} {cell.quartile:>1} {cell.customers:>9,} {cell.revenue:>16,.2f} "
            f"{cell.net_profit:>15,.2f} {cell.profit_per_customer:>13,.2f} {share}"
        )
    if summary.top_fifth_profit_share is not None:
        lines.append(
            f"The top 20% of customers make {summary.top_fifth_profit_share:.0%} of net profit; "
            f"profit deserts are {summary.desert_customer_share:.0%} of customers."
        )
    return "\n".join(lines)


def format_waiting(summary: RunSummary) -> str:
    """One sentence on the facts left out of the P&L until their period's pools arrive."""
    if not summary.waiting:
        return "Every fact is in a closed period: none waits for cost pools."
    periods = sorted({period for _, period, _ in summary.waiting})
    counts = ", ".join(
        f"{waiting:,} {fact.replace('_', ' ')} ({period})"
        for fact, period, waiting in summary.waiting
    )
    return (
        f"Waiting for the cost pools of {', '.join(periods)} before they enter the P&L: {counts}."
    )


def format_cross_sell_quality(summary: RunSummary) -> str:
    """The basket model's hit rate against the popularity baseline, latest as-of period."""
    quality = summary.cross_sell_quality
    if quality is None:
        return (
            "Cross-sell model: not scored yet (it needs recommendations of an as-of period "
            "cross_sell_quality_months earlier)."
        )
    return (
        f"Cross-sell model: {quality.hit_rate:.0%} of {quality.customers_evaluated:,} customers "
        f"bought a recommended family within {quality.months} months "
        f"(popularity baseline {quality.baseline_hit_rate:.0%})."
    )


def format_quarantine(summary: RunSummary) -> str:
    """The quarantined records by table and reason, one line each."""
    if not summary.quarantined:
        return "Quarantine: none; every record met the contract."
    lines = ["Quarantined records (file, row and column in the report's quarantine.csv):"]
    lines += [
        f"  {table:<17} {records:>7,}  {reason}" for table, reason, records in summary.quarantined
    ]
    return "\n".join(lines)


def format_audit_warnings(report_folder: Path) -> str:
    """The audit's warnings of a run, each with its sentence, from its audit summary."""
    path = report_folder / AUDIT_SUMMARY_FILE
    checks = json.loads(path.read_text())["checks"] if path.exists() else []
    warnings = [check for check in checks if check["status"] == "warning"]
    if not warnings:
        return "Audit: no warnings."
    return "\n".join(
        ["Audit warnings:"] + [f"  {check['title']}: {check['summary']}" for check in warnings]
    )


def write_run_report(connection: duckdb.DuckDBPyConnection, reports_dir: Path, run_id: str) -> Path:
    """Writes `<reports>/<UTC time>-<run>/` (summary and quarantine) and returns it."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = reports_dir / f"{stamp}-{run_id[:8]}"
    run_dir.mkdir(parents=True, exist_ok=True)
    summary = read_run_summary(connection)
    quarantine_csv = run_dir / "quarantine.csv"
    write_csv(
        connection.sql(
            "select * from raw.quarantine order by table_name, source_file, source_row"
        ).to_arrow_reader(),
        quarantine_csv,
    )
    sections = [
        f"# Oasis run {run_id}",
        "```",
        format_profit_map(summary),
        "```",
        format_cross_sell_quality(summary),
        "## Quarantined records",
        _markdown_table(("table", "reason", "records"), summary.quarantined)
        or "None: every record met the contract.",
        f"All quarantined records, with file, row, column and value: `{quarantine_csv.name}`.",
        "## Facts waiting for cost pools",
        _markdown_table(("fact", "period", "waiting"), summary.waiting)
        or "None: every fact is in a closed period.",
    ]
    (run_dir / "run_summary.md").write_text("\n\n".join(sections) + "\n")
    return run_dir


def write_failure_report(
    reports_dir: Path, run_id: str, step: str, reasons: list[str], warehouse: Path
) -> Path:
    """The run report of a failed run, in the run's folder (with what the run wrote before
    it failed): why it failed in `run_summary.md`, and in `run_failure.json`, which the
    reports index lists. A second failed step of the same run adds its reasons."""
    run_dir = run_report_folder(reports_dir, run_id)
    failure = read_failure(run_dir) or {
        "run_id": run_id,
        "warehouse": str(warehouse),
        "failed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "steps": [],
        "reasons": [],
    }
    failure["steps"].append(step)
    failure["reasons"] += [reason for reason in reasons if reason not in failure["reasons"]]
    (run_dir / FAILURE_FILE).write_text(json.dumps(failure, indent=1) + "\n")
    summary = run_dir / "run_summary.md"
    before = summary.read_text() if summary.exists() else f"# Oasis run {run_id}\n"
    lines = [
        before.split(_FAILURE_HEADING)[0].rstrip("\n"),
        "",
        _FAILURE_HEADING,
        "",
        f"The run failed in {', '.join(failure['steps'])}: nothing was published, the "
        "published warehouse and the policy feed keep their previous versions.",
        "",
        *(f"- {reason}" for reason in failure["reasons"]),
    ]
    summary.write_text("\n".join(lines) + "\n")
    write_index(reports_dir)
    return run_dir


_FAILURE_HEADING = "## The run failed"


def _markdown_table(header: tuple[str, ...], rows: list[tuple]) -> str:
    if not rows:
        return ""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += [
        "| "
        + " | ".join(f"{value:,}" if isinstance(value, int) else str(value) for value in row)
        + " |"
        for row in rows
    ]
    return "\n".join(lines)
