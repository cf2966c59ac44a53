"""The auditors' report: one static HTML page per audit, and an index of all of them.

Everything is in the page (styles included, no scripts, no fonts, no links off the
machine), so it opens from a file share or a laptop without network and prints well.
It is rendered from the audit summary (expectations.runner.AuditResult.to_dict), which
is written beside it as `audit_summary.json`, with Great Expectations' own validation
results as `gx_results.json`:

    <reports>/index.html                       every audit, newest first
    <reports>/<UTC time>-<run>/audit.html      the report of one run (or `-check`)
    <reports>/<UTC time>-<run>/audit_summary.json
    <reports>/<UTC time>-<run>/gx_results.json
    <reports>/<UTC time>-<run>/run_failure.json  a failed run: where and why (no audit if
                                                 it failed before the audit)

Plain Python: no Dagster, no Great Expectations.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.html import format_number, render

REPORT_FILE = "audit.html"
SUMMARY_FILE = "audit_summary.json"
GX_RESULTS_FILE = "gx_results.json"
INDEX_FILE = "index.html"
# Written by a failed run (pipelines/reports.py): its failed steps and why.
FAILURE_FILE = "run_failure.json"
# Written after publication (orchestration/profit_report.py) and by `oasis report`.
PROFIT_REPORT_FILE = "profit_report.html"
DBT_DOCS_FILE = "dbt_docs.html"
# The steps that run after the publication: a run that failed only there published.
STEPS_AFTER_PUBLICATION = frozenset({"profit_report"})

# How many findings of one check the page lists; the JSON beside it has them all.
MAX_FINDINGS_SHOWN = 50

_STATUS_LABELS = {"pass": "Passed", "warning": "Warning", "error": "Failed"}
_AREA_LABELS = {
    "allocation": "Allocation",
    "pnl": "P&L integrity",
    "ledger": "Ledger",
    "extracts": "Extracts",
}

# How table columns print: money by default, these otherwise.
_RATE_COLUMNS = {"rate", "prior_median_rate"}
_RATIO_COLUMNS = {"rate_ratio"}
_PERCENT_COLUMNS = {"relative_difference", "share"}
_HEADERS = {
    "pnl_rows": "P&L rows",
    "pnl_amount": "P&L",
    "pnl_pool_cost": "Pool cost on P&L rows",
    "pools_amount": "Pools",
    "ledger_amount": "gl_summary",
    "off_by": "Off by",
    "rate_ratio": "Rate / earlier median",
    "prior_median_rate": "Earlier median rate",
    "prior_periods": "Earlier periods",
    "relative_difference": "Relative",
    "driver_units": "Driver units",
    "capacity_units": "Capacity",
    "unused_capacity": "Unused capacity",
    "row_kind": "Row kind",
    "staged_rows": "Staged",
    "identity_breaks": "Identity breaks",
    "split_breaks": "Split breaks",
    "duplicate_row_ids": "Duplicate ids",
    "table_name": "Table",
    "column_name": "Column",
    "constraint_name": "Constraint",
    "outside_domain": "Outside domain",
}


# --- folders ----------------------------------------------------------------------------


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def run_report_folder(reports_dir: Path, run_id: str) -> Path:
    """The folder of a Dagster run: the run report's (`<time>-<run id[:8]>`) when it
    exists, so that a run's files sit together, else a new one."""
    suffix = f"-{run_id[:8]}"
    existing = sorted(path for path in Path(reports_dir).glob(f"*{suffix}") if path.is_dir())
    if existing:
        return existing[-1]
    return new_report_folder(reports_dir, run_id[:8])


def new_report_folder(reports_dir: Path, label: str) -> Path:
    """`<reports>/<UTC time>-<label>/`, created; a second one in the same second gets -2."""
    base = Path(reports_dir) / f"{_stamp()}-{label}"
    folder, number = base, 1
    while folder.exists():
        number += 1
        folder = base.with_name(f"{base.name}-{number}")
    folder.mkdir(parents=True)
    return folder


# --- writing ----------------------------------------------------------------------------


def write_audit_report(
    folder: Path, summary: Mapping[str, Any], gx_results: Sequence[Mapping[str, Any]]
) -> Path:
    """Writes the report, its JSON and the reports index; returns the report's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _write_text(folder / GX_RESULTS_FILE, _dumps(list(gx_results)))
    _write_text(folder / SUMMARY_FILE, _dumps(summary))
    siblings = sorted(
        p.name for p in folder.iterdir() if p.is_file() and p.name not in {REPORT_FILE}
    )
    _write_text(folder / REPORT_FILE, render_audit_html(summary, siblings))
    write_index(folder.parent)
    return folder / REPORT_FILE


def published_before_failing(failure: Mapping[str, Any]) -> bool:
    return set(failure["steps"]) <= STEPS_AFTER_PUBLICATION


def what_was_published(failure: Mapping[str, Any]) -> str:
    """What a failed run's readers have: its marts and feed, or the previous ones."""
    if published_before_failing(failure):
        return (
            "The marts and the policy feed were published; only the profit report or the dbt "
            "docs are missing (`oasis report` writes the report again)."
        )
    return "Nothing was published: BI tools and the feed keep the last good version."


def read_failure(folder: Path) -> dict[str, Any] | None:
    """What a failed run wrote about its failure into its folder, if it failed."""
    try:
        return json.loads((Path(folder) / FAILURE_FILE).read_text())
    except (OSError, ValueError):
        return None


def write_index(reports_dir: Path) -> Path:
    """`<reports>/index.html`, listing every folder with an audit, a failed run or a profit
    report (`oasis report`), newest first. A run that failed before its audit is listed
    with the failure alone."""
    reports_dir = Path(reports_dir)
    entries = []
    for folder in (path for path in reports_dir.iterdir() if path.is_dir()):
        failure = read_failure(folder)
        try:
            summary = json.loads((folder / SUMMARY_FILE).read_text())
        except (OSError, ValueError):
            if failure is not None:
                summary = {
                    "mode": "run",
                    "run_id": failure["run_id"],
                    "warehouse": failure.get("warehouse"),
                }
            elif (folder / PROFIT_REPORT_FILE).exists():
                written = (folder / PROFIT_REPORT_FILE).stat().st_mtime
                summary = {
                    "mode": "report",
                    "generated_at": datetime.fromtimestamp(written, UTC).isoformat(),
                }
            else:
                continue
        if failure is not None:
            summary["failure"] = failure
            summary["generated_at"] = summary.get("generated_at") or failure["failed_at"]
        entries.append((folder.name, summary))
    entries.sort(key=lambda entry: (entry[1].get("generated_at") or "", entry[0]), reverse=True)
    index = reports_dir / INDEX_FILE
    _write_text(index, render_index_html(entries, reports_dir))
    return index


def _write_text(path: Path, text: str) -> None:
    """Written beside and renamed over, so a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _dumps(data: Any) -> str:
    return json.dumps(_json_safe(data), indent=1, ensure_ascii=False)


def _json_safe(value: Any) -> Any:
    """NaN and infinities are not JSON: null. numpy scalars and dates as plain values."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_safe(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str | int | bool):
        return value
    if hasattr(value, "item"):
        return _json_safe(value.item())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# --- the report ---------------------------------------------------------------------------


def render_audit_html(summary: Mapping[str, Any], files: Sequence[str] = ()) -> str:
    """The report page for one audit summary (see expectations.runner.AuditResult.to_dict),
    from templates/audit_report.html.j2."""
    tables = summary.get("tables", {})
    marks = _row_marks(summary.get("checks", []))
    as_of = summary.get("as_of_period") or "unknown"
    status, verdict = _verdict(summary)
    return render(
        "audit_report.html.j2",
        title=f"Oasis data-quality audit, as of {as_of}",
        status=status,
        verdict=verdict,
        facts=_facts(summary),
        checks=_checks(summary.get("checks", [])),
        allocations=_allocations(tables, marks),
        pnl=[
            _titled_table(tables, name, columns, marks)
            for name, columns in (
                (
                    "pnl_by_period",
                    [
                        "period",
                        "rows",
                        "invoice_rows",
                        "return_rows",
                        "identity_breaks",
                        "split_breaks",
                        "duplicate_row_ids",
                        "closed",
                    ],
                ),
                ("pnl_row_counts", ["period", "row_kind", "staged_rows", "pnl_rows", "missing"]),
                ("pnl_components", ["component", "rows", "nulls", "null_example"]),
                (
                    "pool_costs_by_period",
                    ["period", "pools", "pools_amount", "pnl_pool_cost", "off_by"],
                ),
            )
        ],
        ledger=_titled_table(
            tables,
            "ledger_by_period",
            [
                "period",
                "account",
                "pnl_amount",
                "ledger_amount",
                "difference",
                "relative_difference",
            ],
            marks,
            newest_first=True,
        ),
        extracts=_extracts(tables, marks),
        files=_files(files),
        summary_file=SUMMARY_FILE,
    )


def _verdict(summary: Mapping[str, Any]) -> tuple[str, str]:
    failure = summary.get("failure")
    if failure:
        return "error", (
            f"The run failed in {', '.join(failure['steps'])}: "
            + " ".join(failure["reasons"])
            + " "
            + what_was_published(failure)
        )
    counts = summary.get("counts", {})
    errors, warnings = counts.get("errors", 0), counts.get("warnings", 0)
    total = counts.get("checks", 0)
    run = summary.get("mode") == "run"
    if errors:
        consequence = (
            " Publication is blocked: the published warehouse keeps its previous version."
            if run
            else " A run with these results would not be published."
        )
        return "error", (
            f"{errors} of {total} checks failed with errors"
            + (f" and {warnings} with warnings" if warnings else "")
            + f".{consequence}"
        )
    if warnings:
        return "warning", (
            f"No errors; {warnings} of {total} checks raised warnings that someone should "
            "look at. Warnings do not block publication."
        )
    return "pass", f"All {total} checks passed." + (
        " The marts are cleared for publication." if run else ""
    )


def _facts(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    periods = summary.get("periods") or []
    seconds = summary.get("seconds", {})
    settings = summary.get("settings", {})
    return [
        ("Run", summary.get("run_id") or "oasis check (no run)"),
        ("Generated", _time(summary.get("generated_at"))),
        ("Warehouse", summary.get("warehouse") or ""),
        (
            "Closed periods",
            f"{len(periods)}: {periods[0]} to {periods[-1]}" if periods else "none",
        ),
        (
            "Validation time",
            f"{seconds.get('read', 0):.1f} s reading, {seconds.get('validate', 0):.1f} s "
            "validating",
        ),
        (
            "Settings",
            f"rate band {settings.get('rate_band', 0):g} times; ledger tolerance "
            f"{settings.get('gl_tolerance', 0):.2%}; quarantine warning above "
            f"{settings.get('quarantine_warn_share', 0):.2%}, error above "
            f"{settings.get('quarantine_error_share', 0):.2%}",
        ),
    ]


def _checks(checks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "status": check.get("status", "error"),
            "status_label": _STATUS_LABELS.get(
                check.get("status", "error"), check.get("status", "error")
            ),
            "name": check.get("name", ""),
            "area": _AREA_LABELS.get(check.get("area", ""), check.get("area", "")),
            "title": check.get("title", ""),
            "description": check.get("description", ""),
            "level": check.get("level", ""),
            "summary": check.get("summary", ""),
            "findings": check.get("findings", [])[:MAX_FINDINGS_SHOWN],
            "finding_count": len(check.get("findings", [])),
            "more": max(0, len(check.get("findings", [])) - MAX_FINDINGS_SHOWN),
        }
        for check in checks
    ]


def _allocations(tables: Mapping[str, Any], marks: dict) -> dict[str, Any]:
    table = tables.get("pool_allocations")
    if not table or table.get("error"):
        return {"unreadable": _unreadable(table), "periods": []}
    columns = [
        "pool",
        "driver",
        "amount",
        "allocated",
        "unallocated",
        "unused_capacity",
        "rate",
        "driver_units",
        "capacity_units",
        "off_by",
        "rate_ratio",
    ]
    records = _records(table)
    periods = []
    for period in sorted({r["period"] for r in records}, reverse=True):
        rows = [r for r in records if r["period"] == period]
        totals = {
            name: sum(r[name] for r in rows if r[name] is not None)
            for name in ("amount", "allocated", "unallocated", "unused_capacity", "off_by")
        }
        periods.append(
            {
                "period": period,
                "table": _table(
                    columns,
                    rows,
                    marks.get("pool_allocations", {}),
                    table["keys"],
                    totals={"pool": "Total", **totals},
                ),
            }
        )
    return {"unreadable": None, "periods": periods}


def _extracts(tables: Mapping[str, Any], marks: dict) -> list[dict[str, Any]]:
    parts = [
        _titled_table(
            tables,
            "extract_quarantine",
            ["table_name", "loaded", "quarantined", "records", "share"],
            marks,
        ),
        _titled_table(
            tables,
            "money_quarantine",
            [
                "table_name",
                "period",
                "item",
                "amount_shown",
                "reasons",
                "source_file",
                "source_row",
            ],
            marks,
        ),
        _titled_table(
            tables,
            "extract_constraints",
            ["table_name", "constraint_name", "rows", "violations", "example"],
            marks,
        ),
    ]
    for name, columns in (
        (
            "extract_values",
            [
                "table_name",
                "column_name",
                "required",
                "rows",
                "nulls",
                "outside_domain",
                "outside_example",
                "domain",
            ],
        ),
        ("extract_columns", ["table_name", "column_name", "contract_type", "warehouse_type"]),
    ):
        part = _titled_table(tables, name, columns, marks)
        table = tables.get(name)
        if part["table"] is not None:
            # Long tables fold away; open when a row is flagged.
            part["folded"] = {"flagged": len(marks.get(name, {})), "rows": len(table["rows"])}
        parts.append(part)
    return parts


def _files(files: Sequence[str]) -> list[tuple[str, str]]:
    described = {
        SUMMARY_FILE: "this report's data: every check, finding and table",
        GX_RESULTS_FILE: "Great Expectations' validation results, one per suite",
        "run_summary.md": "the run report: profit map, quarantine, waiting facts",
        "quarantine.csv": "every quarantined record with file, row, column and reason",
        PROFIT_REPORT_FILE: "the profit report: the published marts as charts",
        DBT_DOCS_FILE: "the dbt docs site: every model, its columns and the lineage",
    }
    return [(name, described.get(name, "")) for name in files]


def _titled_table(
    tables: Mapping[str, Any],
    name: str,
    columns: Sequence[str],
    marks: dict,
    *,
    newest_first: bool = False,
) -> dict[str, Any]:
    table = tables.get(name)
    if not table or table.get("error"):
        return {"title": name, "table": None, "unreadable": _unreadable(table), "folded": None}
    records = _records(table)
    if newest_first:
        records = sorted(records, key=lambda r: r.get("period") or "", reverse=True)
    return {
        "title": table["title"],
        "table": _table(columns, records, marks.get(name, {}), table["keys"]),
        "unreadable": None,
        "folded": None,
    }


def _unreadable(table: Mapping[str, Any] | None) -> str:
    return (table or {}).get("error") or "not in the audit"


def _records(table: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [dict(zip(table["columns"], row, strict=True)) for row in table["rows"]]


def _table(
    columns: Sequence[str],
    records: Sequence[Mapping[str, Any]],
    marks: Mapping[tuple, str],
    keys: Sequence[str],
    *,
    totals: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A table as templates/audit_table.html.j2 prints it: cells formatted, numeric
    columns (right-aligned) named, each row with its finding's mark."""
    numeric = {c for c in columns if any(_is_number(r.get(c)) for r in records) and c not in keys}
    return {
        "head": [(_header_label(c), c in numeric) for c in columns],
        "rows": [
            {
                "mark": marks.get(tuple(record.get(k) for k in keys), ""),
                "cells": [(_cell(c, record.get(c)), c in numeric) for c in columns],
            }
            for record in records
        ],
        "foot": (
            [(_cell(c, totals[c]) if c in totals else "", c in numeric) for c in columns]
            if totals
            else None
        ),
    }


def _header_label(column: str) -> str:
    return _HEADERS.get(column, column.replace("_", " ").capitalize())


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cell(column: str, value: Any) -> str:
    if isinstance(value, float):
        if column in _PERCENT_COLUMNS:
            return f"{value + 0.0 if round(value, 4) else 0.0:.2%}"
        if column in _RATIO_COLUMNS:
            return f"{value:.2f}"
        if column in _RATE_COLUMNS:
            return f"{value:,.6f}"
    # Empty, yes/no, counts and money as every page prints them.
    if value is None or isinstance(value, int | float):
        return format_number(value)
    return str(value)


def _row_marks(checks: Sequence[Mapping[str, Any]]) -> dict[str, dict[tuple, str]]:
    """table -> row key -> "error" or "warning", for the rows that findings name."""
    marks: dict[str, dict[tuple, str]] = {}
    for check in checks:
        for finding in check.get("findings", []):
            if not finding.get("key"):
                continue
            key = tuple(finding["key"].values())
            table = marks.setdefault(finding["table"], {})
            if table.get(key) != "error":
                table[key] = finding["severity"]
    return marks


def _time(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return iso


# --- the index ------------------------------------------------------------------------------


def render_index_html(entries: Sequence[tuple[str, Mapping[str, Any]]], reports_dir: Path) -> str:
    rows = []
    for folder, summary in entries:
        status, verdict = _verdict(summary)
        counts = summary.get("counts", {})
        headline = summary.get("headline", {})
        files = (
            (PROFIT_REPORT_FILE, "profit report"),
            (REPORT_FILE, "audit report"),
            ("run_summary.md", "run summary"),
            (DBT_DOCS_FILE, "dbt docs"),
        )
        run = summary.get("run_id")
        # Several warehouses may share a reports folder when OASIS_REPORTS says so.
        warehouse = summary.get("warehouse") or ""
        rows.append(
            {
                "status": status,
                "label": "Report only"
                if summary.get("mode") == "report"
                else _STATUS_LABELS[status],
                "why": verdict if summary.get("failure") else "",
                "generated": _time(summary.get("generated_at")),
                "run": run[:8]
                if run
                else ("oasis report" if summary.get("mode") == "report" else "oasis check"),
                "warehouse": warehouse,
                "warehouse_name": Path(warehouse).name,
                "as_of": summary.get("as_of_period") or "",
                "periods": len(summary.get("periods") or []),
                "errors": counts.get("errors", 0),
                "warnings": counts.get("warnings", 0),
                "pool_amount": _cell("amount", headline.get("pool_amount")),
                "unused_capacity": _cell("amount", headline.get("unused_capacity")),
                "ledger_gap": _cell("share", headline.get("largest_ledger_gap")),
                "quarantined": _cell("n", headline.get("quarantined")),
                "links": [
                    {"href": f"{folder}/{name}", "label": label}
                    for name, label in files
                    if (reports_dir / folder / name).exists()
                ],
            }
        )
    return render("index.html.j2", title="Oasis reports", rows=rows)
