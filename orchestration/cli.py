"""The `oasis` command: demo extracts, runs, the UI."""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.contract import PERIOD_PATTERN
from pipelines.settings import (
    DAGSTER_POSTGRES_VARIABLES,
    REPO_ROOT,
    Settings,
    SettingsError,
    resolve_settings,
)

if TYPE_CHECKING:
    from dagster import DagsterInstance, ExecuteInProcessResult
    from dagster._utils.error import SerializableErrorInfo

    from pipelines.mid_update import MidUpdate

# The environment of `oasis` and of the Dagster and dbt processes it starts.
TOOL_ENVIRONMENT = {
    # Nothing phones home: dbt, Dagster and GX usage statistics off.
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "GX_ANALYTICS_ENABLED": "false",
    # A run over a range of periods records one "planned" event per asset, not one per
    # asset and period: a 24-month build starts some 20 s sooner (1,500 fewer event
    # writes). Dagster's trade-off: when such a run fails, the run is marked failed,
    # its partitions are not.
    "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "1",
    # Dagster hands a range run's per-period materializations (one per asset and period)
    # to the event storage in batches, which it writes in one go (orchestration/event_log.py).
    "DAGSTER_EVENT_BATCH_SIZE": "100",
}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    arguments = parser.parse_args(argv)
    return arguments.command(arguments)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="oasis",
        description="Oasis: all-in invoice-line P&L, customer segments and policy flags "
        "from ERP extracts.",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="write a demo ERP extract (CONTRACT.md) to a folder")
    demo.add_argument("--out", type=Path, required=True, help="landing folder to write")
    demo.add_argument("--customers", type=int, default=800, help="number of customers (800)")
    demo.add_argument("--months", type=int, default=24, help="closed months of history (24)")
    demo.add_argument("--seed", type=int, default=7, help="random seed; same seed, same data (7)")
    demo.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    demo.set_defaults(command=_demo)

    run = commands.add_parser(
        "run",
        help="materialize every asset (load extracts, build and test the marts, audit, publish) "
        "for every period, one (--period) or a range (--from/--to)",
    )
    run.add_argument(
        "--source",
        type=Path,
        help="landing folder of ERP extracts (env OASIS_SOURCE; default: the demo extract, "
        "generated when missing)",
    )
    run.add_argument(
        "--warehouse", type=Path, help="DuckDB file (env OASIS_WAREHOUSE; .oasis/warehouse.duckdb)"
    )
    periods = run.add_mutually_exclusive_group()
    periods.add_argument(
        "--period",
        type=_period,
        metavar="YYYY-MM",
        help="process one closed month: load its extracts, rebuild its P&L rows and what they "
        "change (the UI's partition of that month); default: every period, from scratch",
    )
    periods.add_argument(
        "--from",
        dest="period_from",
        type=_period,
        metavar="YYYY-MM",
        help="first month of a range (a backfill: one run, one dbt call); needs --to",
    )
    run.add_argument("--to", dest="period_to", type=_period, metavar="YYYY-MM")
    run.set_defaults(command=_run)

    explain = commands.add_parser(
        "explain", help="show how one P&L row's net profit was built, component by component"
    )
    explain.add_argument("row_id", help="a row_id of marts.fct_invoice_line_pnl")
    explain.add_argument("--warehouse", type=Path, help="as for `oasis run`")
    explain.set_defaults(command=_explain)

    check = commands.add_parser(
        "check",
        help="run the auditors' data-quality suites on an existing warehouse (no rebuild), "
        "write the audit report; exit 1 when an error-level check fails",
    )
    check.add_argument("--warehouse", type=Path, help="as for `oasis run`")
    check.add_argument(
        "--working",
        action="store_true",
        help="audit the working warehouse that runs build (the default: the audit reads its "
        "raw tables, which the published copy does not have); one that a failed run left "
        "mid-update is reported as such, with the periods the next run rebuilds",
    )
    check.set_defaults(command=_check)

    ui = commands.add_parser("ui", help="start Dagster's web UI on this project")
    ui.add_argument("--port", type=int, default=3000)
    ui.add_argument("--source", type=Path, help="as for `oasis run`")
    ui.add_argument("--warehouse", type=Path, help="as for `oasis run`")
    ui.set_defaults(command=_ui)
    return parser


def _demo(arguments: argparse.Namespace) -> int:
    from pipelines.demo_erp import write_demo_erp

    summary = write_demo_erp(
        arguments.out,
        customers=arguments.customers,
        months=arguments.months,
        seed=arguments.seed,
        file_format=arguments.format,
        progress=lambda message: print(message, flush=True),
    )
    print(
        f"Wrote {summary.rows['invoice_lines']:,} invoice lines over "
        f"{len(summary.closed_periods)} closed months to {summary.out_dir}"
    )
    return 0


def _prepare(arguments: argparse.Namespace) -> tuple[Settings, list[str]]:
    """Resolves settings, exports them for Dagster and dbt, seeds the Dagster instance,
    creates the demo extract when it is the source and missing, parses dbt and registers
    the landing folder's periods (at once: both mostly wait on other processes or DuckDB).
    Returns the settings and the periods."""
    try:
        settings = resolve_settings(
            os.environ, source=arguments.source, warehouse=arguments.warehouse
        )
    except SettingsError as error:
        raise SystemExit(f"oasis: {error}") from None
    os.environ.update(TOOL_ENVIRONMENT)
    os.environ.update(settings.as_environment())
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    _seed_dagster_instance(settings, os.environ)
    if settings.uses_demo_source:
        _ensure_demo_source(settings.source)
    elif not settings.source.is_dir():
        raise SystemExit(f"oasis: the landing folder {settings.source} does not exist")

    from orchestration.dbt_project import prepare_dbt_manifest

    print("Parsing the dbt project ...", flush=True)
    with ThreadPoolExecutor(max_workers=1) as background:
        parsing = background.submit(prepare_dbt_manifest)
        partitions = _register_periods(settings)
        parsing.result()
    _fail_dead_run(settings)
    return settings, partitions


def _fail_dead_run(settings: Settings) -> None:
    """A killed run of this warehouse would hold the UI's run queue for good: mark it failed."""
    from dagster import DagsterInstance

    from orchestration.dead_runs import fail_dead_run

    with DagsterInstance.get() as instance:
        done = fail_dead_run(instance, settings.warehouse)
    if done:
        print(f"oasis: {done}", flush=True)


def _seed_dagster_instance(settings: Settings, environ: Mapping[str, str]) -> None:
    """Copies the instance file OASIS_DAGSTER_INSTANCE chose into the instance folder as its
    dagster.yaml; for PostgreSQL, first checks what Dagster would otherwise fail on later,
    with a message about its own config rather than ours."""
    if settings.dagster_instance == "postgres":
        missing = [name for name in DAGSTER_POSTGRES_VARIABLES if name not in environ]
        if missing:
            raise SystemExit(
                f"oasis: OASIS_DAGSTER_INSTANCE=postgres needs {', '.join(missing)} "
                "(the password may be empty; docs/dagster_instance.md)"
            )
        if importlib.util.find_spec("dagster_postgres") is None:
            raise SystemExit(
                "oasis: OASIS_DAGSTER_INSTANCE=postgres needs dagster-postgres: "
                "pip install -e '.[postgres]'"
            )
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(settings.dagster_instance_file, settings.dagster_home / "dagster.yaml")


def _ensure_demo_source(source: Path) -> None:
    # The marker is written last, so an interrupted generation is redone.
    marker = source / ".complete"
    if marker.exists():
        return
    from pipelines.demo_erp import write_demo_erp

    print(f"Generating the demo ERP extract in {source} ...", flush=True)
    write_demo_erp(source, progress=lambda message: print(f"  {message}", flush=True))
    marker.write_text("demo extract complete\n")


def _register_periods(settings: Settings) -> list[str]:
    """Adds the landing folder's periods (first to latest closed) to the instance as
    partitions, so that the UI shows them before the landing sensor first runs."""
    from dagster import DagsterInstance

    from orchestration.automation import partition_periods
    from orchestration.partitions import period_partitions
    from pipelines.contract import OWN_PERIOD_TABLES
    from pipelines.landing import scan_landing

    print(f"Reading the periods of {settings.source} ...", flush=True)
    # Invoice lines and shipments would add no period, only most of a first scan's time.
    scan = scan_landing(settings.source, settings.landing_index, tables=OWN_PERIOD_TABLES)
    partitions = partition_periods(scan)
    with DagsterInstance.get() as instance:
        known = set(instance.get_dynamic_partitions(period_partitions.name))
        instance.add_dynamic_partitions(
            period_partitions.name, [period for period in partitions if period not in known]
        )
    return partitions


def _say_why_the_run_failed(
    instance: DagsterInstance, result: ExecuteInProcessResult, settings: Settings
) -> None:
    from orchestration.reports import error_sentence, failed_checks

    failures = result.get_step_failure_events()
    if failures:
        steps = ", ".join(event.step_key for event in failures)
        print(f"\noasis: the run failed in {steps}:", file=sys.stderr)
        reasons = failed_checks(instance, result.run_id) + [
            error_sentence(event.event_specific_data.error.message) for event in failures
        ]
        for reason in reasons:
            print(f"  - {reason}", file=sys.stderr)
        print(f"Its run report is listed in {settings.reports / 'index.html'}", file=sys.stderr)
    else:  # before any step, e.g. another run holds the warehouse
        error = result.get_run_failure_event().event_specific_data.error
        print(f"\noasis: the run could not start: {_root_cause(error)}", file=sys.stderr)
    print(f"Open `oasis ui` and look at run {result.run_id} for details.", file=sys.stderr)


def _root_cause(error: SerializableErrorInfo | None) -> str:
    while error is not None and error.cause is not None:
        error = error.cause
    return error.message.strip() if error else "see the run's events"


def _period(text: str) -> str:
    if not re.fullmatch(PERIOD_PATTERN, text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a period: expected YYYY-MM")
    return text


def _run(arguments: argparse.Namespace) -> int:
    if (arguments.period_from is None) != (arguments.period_to is None):
        raise SystemExit("oasis run: --from and --to go together")
    settings, partitions = _prepare(arguments)

    from dagster import DagsterInstance
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    from orchestration.automation import JOB_NAME
    from orchestration.definitions import defs

    if not partitions:
        raise SystemExit(f"oasis: no closed period (no cost pools) in {settings.source}")
    first, last = (
        (arguments.period, arguments.period)
        if arguments.period
        else (arguments.period_from or partitions[0], arguments.period_to or partitions[-1])
    )
    for period in (first, last):
        if period not in partitions:
            raise SystemExit(
                f"oasis: {period} is not a closed period of {settings.source}; "
                f"the closed periods are {partitions[0]} to {partitions[-1]}"
            )
    if first > last:
        raise SystemExit(f"oasis: --from {first} comes after --to {last}")
    print(f"Running periods {first} to {last} of {partitions[0]} to {partitions[-1]} ...")

    job = defs.resolve_job_def(JOB_NAME)
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
            tags={ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last},
        )
        if not result.success:
            _say_why_the_run_failed(instance, result, settings)
            return 1

    import duckdb

    from pipelines.reports import format_profit_map, format_waiting, read_run_summary

    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        summary = read_run_summary(connection)
    print("\n" + format_profit_map(summary))
    print(format_waiting(summary))
    from orchestration.checks import published_path

    print(f"\nWarehouse: {settings.warehouse} (working copy; BI tools read the published one)")
    print(f"Published: {published_path(settings.warehouse)}")
    print(f"Reports:   {settings.reports} (open index.html)")
    print(f"Exports:   {settings.exports}")
    return 0


def _explain(arguments: argparse.Namespace) -> int:
    import duckdb

    from pipelines.explain import UnknownRow, explain_row

    settings = resolve_settings(os.environ, warehouse=arguments.warehouse)
    if not settings.warehouse.exists():
        raise SystemExit(f"oasis: no warehouse at {settings.warehouse}; run `oasis run` first")
    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        try:
            print(explain_row(connection, arguments.row_id))
        except UnknownRow as error:
            print(f"oasis: {error}", file=sys.stderr)
            return 2
    return 0


def _check(arguments: argparse.Namespace) -> int:
    settings = resolve_settings(os.environ, warehouse=arguments.warehouse)
    os.environ.update(TOOL_ENVIRONMENT)
    unfinished = _mid_updates(settings.warehouse)
    if unfinished:
        for update in unfinished:
            print(f"oasis check: {settings.warehouse} is {update.describe()}.", file=sys.stderr)
        print(
            "Its raw tables and marts disagree until then: not audited. The next `oasis run` "
            "rebuilds those periods by itself, whatever periods it is asked for.",
            file=sys.stderr,
        )
        return 1
    from expectations.runner import check_warehouse

    return check_warehouse(settings.warehouse, settings.reports)


def _mid_updates(warehouse: Path) -> list[MidUpdate]:
    """What unfinished runs left to rebuild in the warehouse; none when it cannot be read
    (the audit then says why)."""
    import duckdb

    from pipelines.mid_update import mid_updates

    if not warehouse.is_file():
        return []
    try:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            return mid_updates(connection)
    except duckdb.Error:
        return []


def _ui(arguments: argparse.Namespace) -> int:
    _prepare(arguments)
    command = [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "--module-name",
        "orchestration.definitions",
        "--port",
        str(arguments.port),
    ]
    return subprocess.call(command, cwd=REPO_ROOT)


if __name__ == "__main__":
    sys.exit(main())
