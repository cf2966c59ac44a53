"""Runs the auditors' suites against a warehouse and returns a plain summary.

`run_audit` reads the audit tables (tables.py), validates each with its suite through
a GX Checkpoint in an ephemeral context (nothing written, nothing sent), and turns
every failing row into a sentence (messages.py). `check_warehouse` is `oasis check`:
audit, print, write the report, exit code.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from expectations.catalog import CHECKS, Check
from expectations.messages import PASSED, failure_sentence, is_missing
from expectations.settings import AuditSettings
from expectations.suites import ERROR, WARNING, all_suites
from expectations.tables import AuditTable, read_audit_tables

ERROR_LEVEL = "error"
WARNING_LEVEL = "warning"
_LEVELS = {ERROR: ERROR_LEVEL, WARNING: WARNING_LEVEL}


@dataclass(frozen=True)
class Finding:
    """One failing row of one expectation, in words."""

    check: str
    severity: str  # "error" or "warning"
    expectation: str  # the GX expectation type
    table: str
    key: dict[str, Any]  # the row's key columns
    sentence: str


@dataclass(frozen=True)
class CheckOutcome:
    check: Check
    level: str  # the check's highest severity: what a failure of it can be
    findings: tuple[Finding, ...]
    summary: str  # one sentence: what passed, or the first findings
    rows_checked: int

    @property
    def passed(self) -> bool:
        return not self.findings

    @property
    def severity(self) -> str:
        """The severity of the failure, or the check's level when it passed."""
        if any(f.severity == ERROR_LEVEL for f in self.findings):
            return ERROR_LEVEL
        return WARNING_LEVEL if self.findings else self.level

    @property
    def status(self) -> str:
        """One of pass, warning, error."""
        return "pass" if self.passed else self.severity


@dataclass(frozen=True)
class AuditResult:
    warehouse: str
    settings: AuditSettings
    checks: tuple[CheckOutcome, ...]
    tables: dict[str, AuditTable]
    gx_results: list[dict[str, Any]]
    started_at: datetime
    read_seconds: float
    validate_seconds: float
    periods: tuple[str, ...] = field(default=())

    @property
    def errors(self) -> list[CheckOutcome]:
        return [c for c in self.checks if c.status == ERROR_LEVEL]

    @property
    def warnings(self) -> list[CheckOutcome]:
        return [c for c in self.checks if c.status == WARNING_LEVEL]

    @property
    def as_of_period(self) -> str | None:
        return self.periods[-1] if self.periods else None

    def check(self, name: str) -> CheckOutcome:
        return next(c for c in self.checks if c.check.name == name)

    def to_dict(self, *, run_id: str | None = None, mode: str = "check") -> dict[str, Any]:
        """Plain JSON-able data: what pipelines/audit_report.py renders and indexes."""
        return {
            "format": 1,
            "mode": mode,
            "run_id": run_id,
            "generated_at": self.started_at.isoformat(timespec="seconds"),
            "warehouse": self.warehouse,
            "as_of_period": self.as_of_period,
            "periods": list(self.periods),
            "seconds": {
                "read": round(self.read_seconds, 3),
                "validate": round(self.validate_seconds, 3),
            },
            "settings": self.settings.as_dict() | _dbt_settings(self.tables),
            "counts": {
                "checks": len(self.checks),
                "passed": sum(c.passed for c in self.checks),
                "warnings": len(self.warnings),
                "errors": len(self.errors),
            },
            "headline": _headline(self.tables),
            "checks": [
                {
                    "name": c.check.name,
                    "area": c.check.area,
                    "title": c.check.title,
                    "description": c.check.description,
                    "level": c.level,
                    "status": c.status,
                    "summary": c.summary,
                    "rows_checked": c.rows_checked,
                    "findings": [
                        {
                            "severity": f.severity,
                            "expectation": f.expectation,
                            "table": f.table,
                            "key": f.key,
                            "sentence": f.sentence,
                        }
                        for f in c.findings
                    ],
                }
                for c in self.checks
            ],
            "tables": {
                name: {
                    "title": table.title,
                    "error": table.error,
                    "keys": list(table.keys),
                    "columns": [str(c) for c in table.frame.columns],
                    "rows": _json_rows(table.frame),
                }
                for name, table in self.tables.items()
            },
        }


def run_audit(
    connection: duckdb.DuckDBPyConnection,
    settings: AuditSettings | None = None,
    *,
    warehouse: str = "",
) -> AuditResult:
    """Validates the warehouse behind `connection` (read-only is enough)."""
    settings = settings or AuditSettings()
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    tables = read_audit_tables(connection)
    read_seconds = time.perf_counter() - clock
    clock = time.perf_counter()
    suites = all_suites(settings)
    validation_results = _validate(tables, suites)
    validate_seconds = time.perf_counter() - clock
    findings = _findings(validation_results, tables, settings)
    for suite in suites:
        _findings_for_unreadable(suite, tables, findings)
    checks = tuple(
        _outcome(check, findings.get(check.name, []), suites, tables, settings) for check in CHECKS
    )
    periods_table = tables["pool_costs_by_period"]
    periods = (
        tuple(sorted(periods_table.frame["period"].dropna().astype(str)))
        if periods_table.error is None
        else ()
    )
    return AuditResult(
        warehouse=warehouse,
        settings=settings,
        checks=checks,
        tables=tables,
        gx_results=[result.to_json_dict() for result in validation_results],
        started_at=started_at,
        read_seconds=read_seconds,
        validate_seconds=validate_seconds,
        periods=periods,
    )


def _findings_for_unreadable(
    suite: Any, tables: Mapping[str, AuditTable], findings: dict[str, list[Finding]]
) -> None:
    """A table the warehouse could not give fails every check that reads it."""
    table = tables[suite.meta["table"]]
    if table.error is None:
        return
    for check in dict.fromkeys(e.meta["check"] for e in suite.expectations):
        findings.setdefault(check, []).append(
            Finding(
                check,
                ERROR_LEVEL,
                "read",
                table.name,
                {},
                f"the audit table {table.name} ({table.title}) could not be read from the "
                f"warehouse: {table.error}",
            )
        )


def audit_warehouse(path: Path, settings: AuditSettings | None = None) -> AuditResult:
    """Opens the DuckDB file read-only and audits it."""
    with duckdb.connect(str(path), read_only=True) as connection:
        return run_audit(connection, settings, warehouse=str(path))


# --- Great Expectations -----------------------------------------------------------------


def _validate(tables: Mapping[str, AuditTable], suites: Sequence[Any]) -> list[Any]:
    """One Checkpoint per audit table, in an ephemeral context: no files, no telemetry."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    context = gx.get_context(
        mode="ephemeral",
        project_config=DataContextConfig(
            analytics_enabled=False, store_backend_defaults=InMemoryStoreBackendDefaults()
        ),
    )
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("oasis_warehouse")
    results = []
    for suite in suites:
        table = tables[suite.meta["table"]]
        if table.error is not None:
            continue
        batch = source.add_dataframe_asset(table.name).add_batch_definition_whole_dataframe(
            "whole table"
        )
        suite = context.suites.add(suite)
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.name, data=batch, suite=suite)
        )
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=f"audit {suite.name}",
                validation_definitions=[definition],
                result_format={
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": list(table.keys),
                },
            )
        )
        outcome = checkpoint.run(batch_parameters={"dataframe": table.frame})
        results.extend(outcome.run_results.values())
    return results


def _findings(
    validation_results: Sequence[Any],
    tables: Mapping[str, AuditTable],
    settings: AuditSettings,
) -> dict[str, list[Finding]]:
    by_check: dict[str, list[Finding]] = {}
    for validation in validation_results:
        table = tables[validation.suite_name.split(".", 1)[1]]
        rows = {_key(table.keys, row): row for row in table.frame.to_dict("records")}
        for result in validation.results:
            if result.success:
                continue
            by_check.setdefault(result.expectation_config.meta["check"], []).extend(
                _failed_expectation_findings(result, table, rows, settings)
            )
    return {check: _worst_per_row(findings) for check, findings in by_check.items()}


def _failed_expectation_findings(
    result: Any,
    table: AuditTable,
    rows: Mapping[tuple, Mapping[str, Any]],
    settings: AuditSettings,
) -> list[Finding]:
    """The findings of one failed expectation on `table` (its records by key in `rows`):
    one per row GX names, or one for the whole table when it could not run or named none."""
    config = result.expectation_config
    severity = _LEVELS.get(str(_value(config.severity)), ERROR_LEVEL)

    def finding(level: str, key: dict[str, Any], sentence: str) -> Finding:
        return Finding(config.meta["check"], level, config.type, table.name, key, sentence)

    if (result.exception_info or {}).get("raised_exception"):
        message = result.exception_info.get("exception_message")
        return [finding(ERROR_LEVEL, {}, f"{config.type} on {table.name} could not run: {message}")]
    indexes = result.result.get("unexpected_index_list") or []
    if not indexes:
        # A failure GX cannot pin to rows must not pass for lack of rows to name.
        return [finding(severity, {}, f"{config.type} failed on {table.name}: {result.result}")]
    findings = []
    for index in indexes:
        key = _key(table.keys, index)
        findings.append(
            finding(
                severity,
                {name: _plain(value) for name, value in zip(table.keys, key, strict=True)},
                failure_sentence(config.meta["says"], rows.get(key, index), settings),
            )
        )
    return findings


def _worst_per_row(findings: list[Finding]) -> list[Finding]:
    """A row above the error threshold is not also reported above the warning one."""
    erroneous = {
        (f.table, tuple(f.key.items())) for f in findings if f.severity == ERROR_LEVEL and f.key
    }
    return [
        f
        for f in findings
        if f.severity == ERROR_LEVEL or (f.table, tuple(f.key.items())) not in erroneous
    ]


def _outcome(
    check: Check,
    findings: list[Finding],
    suites: Sequence[Any],
    tables: Mapping[str, AuditTable],
    settings: AuditSettings,
) -> CheckOutcome:
    severities = set()
    checked_tables = set()
    for suite in suites:
        for expectation in suite.expectations:
            if expectation.meta.get("check") == check.name:
                severities.add(_LEVELS.get(str(_value(expectation.severity)), ERROR_LEVEL))
                checked_tables.add(suite.meta["table"])
    level = WARNING_LEVEL if severities == {WARNING_LEVEL} else ERROR_LEVEL
    findings = sorted(findings, key=lambda f: (f.severity != ERROR_LEVEL, f.table, str(f.key)))
    if findings:
        shown = "; ".join(f.sentence for f in findings[:2])
        more = f" (and {len(findings) - 2:,} more)" if len(findings) > 2 else ""
        count = f"{len(findings):,} finding{'s' if len(findings) != 1 else ''}"
        summary = f"{count}: {shown}{more}."
    else:
        summary = PASSED[check.name](tables, settings)
    return CheckOutcome(
        check=check,
        level=level,
        findings=tuple(findings),
        summary=summary,
        rows_checked=sum(len(tables[name].frame) for name in checked_tables),
    )


def _value(severity: Any) -> Any:
    return getattr(severity, "value", severity)


def _key(keys: Sequence[str], row: Mapping[str, Any]) -> tuple:
    return tuple(_plain(row.get(name)) for name in keys)


def _plain(value: Any) -> Any:
    """numpy scalars and missing values as plain JSON-able Python."""
    if is_missing(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _json_rows(frame: pd.DataFrame) -> list[list[Any]]:
    return [[_plain(value) for value in row] for row in frame.itertuples(index=False, name=None)]


def _dbt_settings(tables: Mapping[str, AuditTable]) -> dict[str, float]:
    """The settings the reconciliations were decided with in dbt (each row records its
    own), for the report: the ledger tolerance is the dbt var `gl_tolerance`."""
    ledger = tables["ledger_by_period"].frame
    if "gl_tolerance" not in ledger or ledger.empty:
        return {}
    return {"gl_tolerance": float(ledger["gl_tolerance"].max())}


_HEADLINE_TABLES = ("pool_allocations", "pnl_by_period", "ledger_by_period", "extract_quarantine")


def _headline(tables: Mapping[str, AuditTable]) -> dict[str, Any]:
    """A few numbers for the index, so that runs can be compared at a glance."""
    if any(tables[name].error for name in _HEADLINE_TABLES):
        return {}
    pools = tables["pool_allocations"].frame
    pnl = tables["pnl_by_period"].frame
    ledger = tables["ledger_by_period"].frame
    quarantine = tables["extract_quarantine"].frame
    gaps = ledger["relative_difference"].abs().dropna()
    return {
        "pools": len(pools),
        "pool_amount": _plain(pools["amount"].sum()),
        "unused_capacity": _plain(pools["unused_capacity"].sum()),
        "unallocated": _plain(pools["unallocated"].sum()),
        "pnl_rows": int(pnl["rows"].sum()),
        "largest_ledger_gap": _plain(gaps.max()) if len(gaps) else None,
        "quarantined": int(quarantine["quarantined"].sum()),
    }


# --- oasis check --------------------------------------------------------------------------


def format_summary(result: AuditResult, details: int = 5) -> str:
    """The audit as text for a terminal: one line per check, findings indented below."""
    marks = {"pass": "PASS", WARNING_LEVEL: "WARN", ERROR_LEVEL: "FAIL"}
    seconds = result.read_seconds + result.validate_seconds
    periods = len(result.periods)
    lines = [
        f"Audit of {result.warehouse or 'the warehouse'}: {periods} closed periods to "
        f"{result.as_of_period}, {seconds:.1f} s",
        "",
    ]
    for outcome in result.checks:
        lines.append(f"{marks[outcome.status]}  {outcome.check.name:<36} {outcome.check.title}")
        if outcome.passed:
            lines.append(f"      {outcome.summary}")
        for finding in outcome.findings[:details]:
            lines.append(f"      {finding.severity}: {finding.sentence}")
        if len(outcome.findings) > details:
            lines.append(f"      ... and {len(outcome.findings) - details:,} more in the report")
    passed = sum(c.passed for c in result.checks)
    lines += [
        "",
        f"{passed} of {len(result.checks)} checks passed, {len(result.warnings)} with warnings, "
        f"{len(result.errors)} with errors.",
    ]
    return "\n".join(lines)


def check_warehouse(
    warehouse: Path,
    reports_dir: Path,
    settings: AuditSettings | None = None,
    *,
    out: Callable[[str], None] = print,
) -> int:
    """`oasis check`: audits an existing warehouse, prints the summary, writes the report
    and the index, and returns 1 when an error-level check fails (else 0)."""
    from pipelines.audit_report import new_report_folder, write_audit_report

    if not warehouse.is_file():
        print(f"oasis check: no warehouse at {warehouse}", file=sys.stderr)
        return 2
    try:
        result = audit_warehouse(warehouse, settings or AuditSettings.from_environment(os.environ))
    except duckdb.IOException as error:
        print(
            f"oasis check: cannot open {warehouse} read-only ({error}). Is a run writing it?",
            file=sys.stderr,
        )
        return 2
    except duckdb.CatalogException as error:
        print(
            f"oasis check: {warehouse} is not a complete Oasis warehouse ({error}). "
            "Run `oasis run` first.",
            file=sys.stderr,
        )
        return 2
    report = write_audit_report(
        new_report_folder(reports_dir, "check"), result.to_dict(mode="check"), result.gx_results
    )
    out(format_summary(result))
    out(f"Report: {report}")
    out(f"Index:  {report.parent.parent / 'index.html'}")
    return 1 if result.errors else 0
