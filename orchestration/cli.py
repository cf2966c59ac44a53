"""The `oasis` command: demo extracts, runs, the UI."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.contract import PERIOD_PATTERN, TABLES
from pipelines.settings import (
    DAGSTER_POSTGRES_VARIABLES,
    ENGINES,
    REPO_ROOT,
    Settings,
    SettingsError,
    resolve_settings,
)

if TYPE_CHECKING:
    from pipelines.landing import LandingScan
    from pipelines.mid_update import MidUpdate

# The environment of `oasis` and of the Dagster and dbt processes it starts.
TOOL_ENVIRONMENT = {
    # Nothing phones home: dbt, Dagster and GX usage statistics off. (No variable stops
    # `dbt --version` from asking pypi.org for the latest dbt: our dbt resource never runs
    # it, orchestration/dbt_project.py.)
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


# What `oasis check` and `oasis explain` read unless told otherwise: the audited snapshot
# of the last run that passed its audit, never the file a run is writing.
WORKING_HELP = (
    "read the working warehouse instead of the last audited snapshot, waiting for a run "
    "that holds it to finish; one that a failed run left mid-update is reported as such"
)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    arguments, unknown = parser.parse_known_args(argv)
    if unknown:
        # argparse would answer a misspelt flag (`--peroid`) with the top level's usage.
        arguments.parser.error(f"unrecognized arguments: {' '.join(unknown)}")
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
    demo.add_argument(
        "--format", choices=("parquet", "csv"), default="parquet", help="file format (parquet)"
    )
    demo.add_argument(
        "--occasional-share",
        type=float,
        default=0.0,
        help="share of customers who buy about once a year, 0 to 1 (0)",
    )
    demo.set_defaults(command=_demo, parser=demo)

    run = commands.add_parser(
        "run",
        help="materialize every asset (load extracts, build and test the marts, audit, publish) "
        "for every period, one (--period) or a range (--from/--to)",
    )
    run.add_argument(
        "--source",
        help="landing folder of ERP extracts, or a database URL postgresql://user@host:port/db "
        "(password in PGPASSWORD or ~/.pgpass) (env OASIS_SOURCE; default: the demo extract, "
        "generated when missing; docs/sources.md)",
    )
    run.add_argument(
        "--mapping",
        type=Path,
        help="YAML mapping of the source's tables onto the contract, e.g. mappings/odoo.yml "
        "(env OASIS_MAPPING; docs/sources.md)",
    )
    run.add_argument(
        "--files",
        dest="source_files",
        type=Path,
        help="landing folder beside a database, for the tables it lacks, e.g. cost_pools and "
        "gl_summary (env OASIS_SOURCE_FILES)",
    )
    run.add_argument(
        "--warehouse", type=Path, help="DuckDB file (env OASIS_WAREHOUSE; .oasis/warehouse.duckdb)"
    )
    run.add_argument(
        "--engine",
        choices=ENGINES,
        help="where dbt runs the models: duckdb, in the warehouse; or spark, a local pyspark "
        "over the raw Parquet, its tables copied into the warehouse after the build (env "
        "OASIS_ENGINE; duckdb; docs/spark.md)",
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
    run.add_argument(
        "--var",
        dest="method_vars",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a method setting (a dbt var, README 'Settings') for this warehouse: kept in "
        "<warehouse>.settings.yml for later runs; a change rebuilds every period (repeatable)",
    )
    output = run.add_mutually_exclusive_group()
    output.add_argument(
        "--verbose",
        dest="output",
        action="store_const",
        const="verbose",
        default="auto",
        help="print Dagster's and dbt's whole log as it comes (it is always in the run's log file)",
    )
    output.add_argument(
        "--quiet",
        dest="output",
        action="store_const",
        const="quiet",
        help="print only what failed, or where the results are: for scripts",
    )
    run.add_argument(
        "--to",
        dest="period_to",
        type=_period,
        metavar="YYYY-MM",
        help="last month of a range, inclusive; needs --from",
    )
    run.set_defaults(command=_run, parser=run)

    explain = commands.add_parser(
        "explain",
        help="show how one P&L row's net profit was built, or what a customer or SKU is told",
    )
    explain.add_argument(
        "row_id",
        metavar="key",
        help="a row_id of marts.fct_invoice_line_pnl, customer:<customer_id> or sku:<sku>",
    )
    explain.add_argument("--warehouse", type=Path, help="as for `oasis run`")
    explain.add_argument("--working", action="store_true", help=WORKING_HELP)
    explain.set_defaults(command=_explain, parser=explain)

    check = commands.add_parser(
        "check",
        help="run the auditors' data-quality suites on an existing warehouse (no rebuild), "
        "write the audit report; exit 1 when an error-level check fails",
    )
    check.add_argument("--warehouse", type=Path, help="as for `oasis run`")
    check.add_argument("--working", action="store_true", help=WORKING_HELP)
    check.set_defaults(command=_check, parser=check)

    report = commands.add_parser(
        "report",
        help="write the profit report (offline HTML with charts) from the published "
        "warehouse, without a run, into a new folder of the reports folder",
    )
    report.add_argument("--warehouse", type=Path, help="as for `oasis run`")
    report.add_argument(
        "--as-of",
        type=_period,
        dest="as_of",
        metavar="YYYY-MM",
        help="also write the page of this earlier as-of period, linked from the latest's "
        "(default: the as-of period 12 months before the latest)",
    )
    report.set_defaults(command=_report, parser=report)

    ui = commands.add_parser("ui", help="start Dagster's web UI on this project")
    ui.add_argument("--port", type=int, default=3000, help="port of the web UI (3000)")
    ui.add_argument("--source", help="as for `oasis run`")
    ui.add_argument("--warehouse", type=Path, help="as for `oasis run`")
    ui.add_argument("--mapping", type=Path, help="as for `oasis run`")
    ui.add_argument("--files", dest="source_files", type=Path, help="as for `oasis run`")
    ui.set_defaults(command=_ui, parser=ui)
    return parser


def _demo(arguments: argparse.Namespace) -> int:
    from pipelines.demo.erp import check_demo_size, write_demo_erp

    try:
        check_demo_size(
            arguments.customers, arguments.months, arguments.format, arguments.occasional_share
        )
    except ValueError as error:
        arguments.parser.error(str(error))
    summary = write_demo_erp(
        arguments.out,
        customers=arguments.customers,
        months=arguments.months,
        seed=arguments.seed,
        file_format=arguments.format,
        occasional_share=arguments.occasional_share,
        progress=lambda message: print(message, flush=True),
    )
    print(
        f"Wrote {summary.rows['invoice_lines']:,} invoice lines over "
        f"{len(summary.closed_periods)} closed months to {summary.out_dir}"
    )
    return 0


def _source_settings(arguments: argparse.Namespace) -> Settings:
    """The settings of `oasis run` and `oasis ui`: their source, mapping, files beside the
    source and warehouse flags over the environment; a bad one ends the command in a line."""
    try:
        return resolve_settings(
            os.environ,
            source=arguments.source,
            warehouse=arguments.warehouse,
            mapping=arguments.mapping,
            source_files=arguments.source_files,
            engine=getattr(arguments, "engine", None),
        )
    except SettingsError as error:
        raise SystemExit(f"oasis: {error}") from None


def _prepare(arguments: argparse.Namespace) -> tuple[Settings, LandingScan]:
    """Resolves settings, exports them for Dagster and dbt, seeds the Dagster instance,
    creates the demo extract when it is the source and missing, parses dbt and registers
    the landing folder's periods (at once: both mostly wait on other processes or DuckDB).
    Returns the settings and the scan of the landing folder."""
    settings = _source_settings(arguments)
    os.environ.update(TOOL_ENVIRONMENT)
    os.environ.update(settings.as_environment())
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    _seed_dagster_instance(settings, os.environ)
    if settings.uses_demo_source:
        _ensure_demo_source(settings.source)
    elif settings.origin is None and not settings.source.is_dir():
        raise SystemExit(f"oasis: the landing folder {settings.source} does not exist")

    from orchestration.dbt_project import prepare_dbt_manifest

    print("Reading the dbt project (parsed again only when it changed) ...", flush=True)
    with ThreadPoolExecutor(max_workers=1) as background:
        parsing = background.submit(prepare_dbt_manifest)
        scan = _register_periods(settings)
        parsing.result()
    _fail_dead_run(settings)
    return settings, scan


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
    from pipelines.demo.erp import write_demo_erp

    print(f"Generating the demo ERP extract in {source} ...", flush=True)
    write_demo_erp(source, progress=lambda message: print(f"  {message}", flush=True))
    marker.write_text("demo extract complete\n")


def _register_periods(settings: Settings) -> LandingScan:
    """Adds the landing folder's periods (first to latest closed) to the instance as
    partitions, so that the UI shows them before the landing sensor first runs."""
    from dagster import DagsterInstance

    from orchestration.automation import partition_periods
    from orchestration.partitions import period_partitions
    from pipelines.contract import OWN_PERIOD_TABLES
    from pipelines.landing import landing_scan

    print(f"Reading the periods of {settings.source} ...", flush=True)
    # Invoice lines and shipments would add no period, only most of a first scan's time.
    scan = landing_scan(settings.source, settings.landing_index, tables=OWN_PERIOD_TABLES)
    partitions = partition_periods(scan)
    with DagsterInstance.get() as instance:
        known = set(instance.get_dynamic_partitions(period_partitions.name))
        instance.add_dynamic_partitions(
            period_partitions.name, [period for period in partitions if period not in known]
        )
    return scan


def _period(text: str) -> str:
    if not re.fullmatch(PERIOD_PATTERN, text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a period: expected YYYY-MM")
    return text


def _months(first: str, last: str) -> str:
    return first if first == last else f"{first} to {last}"


def _not_a_partition(period: str, source: Path, scan: LandingScan, partitions: list[str]) -> str:
    closed = sorted(scan.closed_periods)
    closed_periods = f"the closed periods (with cost pools) are {_months(closed[0], closed[-1])}"
    if period > partitions[-1] and period in scan.periods:
        return (
            f"{period} is not closed: its cost pools have not landed in the extracts "
            f"(its facts wait for them); {closed_periods}"
        )
    return (
        f"{period} is not a period of {source}: the partitions are "
        f"{_months(partitions[0], partitions[-1])}; {closed_periods}"
    )


def _refuse_early(arguments: argparse.Namespace) -> None:
    """What `oasis run` can refuse before Dagster and dbt start (some 20 s of start-up):
    the flags, the landing folder, folders it cannot write and a warehouse in use."""
    if (arguments.period_from is None) != (arguments.period_to is None):
        raise SystemExit("oasis run: --from and --to go together")
    if arguments.period_from and arguments.period_from > arguments.period_to:
        raise SystemExit(
            f"oasis run: --from {arguments.period_from} comes after --to {arguments.period_to}"
        )
    settings = _source_settings(arguments)
    from pipelines.loader.reading import EXTRACT_SUFFIXES

    if settings.origin is not None:
        _refuse_unreadable_origin(settings)
    elif not settings.uses_demo_source:
        if not settings.source.is_dir():
            raise SystemExit(f"oasis: the landing folder {settings.source} does not exist")
        if not any(
            path.suffix.lower() in EXTRACT_SUFFIXES
            for table in TABLES
            for path in (settings.source / table).glob("*")
        ):
            raise SystemExit(
                f"oasis: the landing folder {settings.source} holds no extract: expected "
                f"<table>/*.csv or *.parquet for the tables {', '.join(TABLES)} (docs/contract.md)"
            )
    for folder in (settings.warehouse.parent, settings.reports, settings.exports):
        _require_writable(folder)
    if settings.warehouse.exists() and not os.access(settings.warehouse, os.W_OK):
        raise SystemExit(f"oasis: the warehouse {settings.warehouse} is read-only")
    from pipelines.warehouse_lock import WarehouseBusyError, hold_warehouse_lock

    # A glance at the run lock (the run takes it again for its whole length): a warehouse
    # in use is refused now, not after start-up.
    try:
        with hold_warehouse_lock(
            settings.warehouse,
            settings.warehouse_lock_wait,
            progress=lambda message: print(message, flush=True),
            record=False,
        ):
            pass
    except WarehouseBusyError as error:
        raise SystemExit(f"oasis: {error}") from None
    _keep_method_settings(settings.warehouse, arguments.method_vars)


def _refuse_unreadable_origin(settings: Settings) -> None:
    """A staged source: the mapping must be sound and a folder must exist."""
    from pipelines.sources.mapping import MappingError, read_mapping
    from pipelines.sources.readers import SourceError, is_database_url, require_no_password

    try:
        if is_database_url(settings.origin):
            require_no_password(settings.origin)
        elif not Path(settings.origin).is_dir():
            raise SystemExit(f"oasis: the landing folder {settings.origin} does not exist")
        if settings.mapping is not None:
            read_mapping(settings.mapping)
    except (MappingError, SourceError) as error:
        raise SystemExit(f"oasis: {error}") from None
    if settings.source_files is not None and not settings.source_files.is_dir():
        raise SystemExit(f"oasis: the folder of files {settings.source_files} does not exist")


def _stage_origin(settings: Settings, first: str | None, last: str | None) -> None:
    """Reads a database (or ERP-shaped files through a mapping) into the staged landing
    folder: a period run only its periods (the query's date range), else everything."""
    from orchestration.automation import months_between
    from pipelines.sources.mapping import MappingError, read_mapping
    from pipelines.sources.readers import (
        DatabaseReader,
        FolderReader,
        SourceError,
        is_database_url,
    )
    from pipelines.sources.staging import stage_source

    periods = months_between(first, last) if first else None
    scope = "every period" if periods is None else _months(first, last)
    origin = settings.origin
    print(f"Reading {scope} of the source into {settings.source} ...", flush=True)
    try:
        mapping = read_mapping(settings.mapping) if settings.mapping else {}
        reader = DatabaseReader(origin) if is_database_url(origin) else FolderReader(Path(origin))
        try:
            staged = stage_source(
                reader, mapping, settings.source, periods=periods, files=settings.source_files
            )
        finally:
            reader.close()
    except (MappingError, SourceError) as error:
        raise SystemExit(f"oasis: {error}") from None
    rows = sum(table.rows for table in staged)
    print(f"  {rows:,} records from {reader.label}", flush=True)


def _keep_method_settings(warehouse: Path, texts: list[str]) -> None:
    """Checks every --var and the settings file, then writes the --var values into it."""
    from pipelines.method_settings import (
        MethodSettingError,
        method_defaults,
        parse_var,
        read_method_settings,
        settings_file,
        write_method_settings,
    )

    try:
        known = method_defaults()
        changes = dict(parse_var(text, known) for text in texts)
        read_method_settings(warehouse)
    except MethodSettingError as error:
        raise SystemExit(f"oasis: {error}") from None
    if changes:
        write_method_settings(warehouse, changes)
        shown = ", ".join(f"{name} = {value}" for name, value in changes.items())
        print(f"Settings of this warehouse ({settings_file(warehouse)}): {shown}")


def _require_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SystemExit(f"oasis: cannot create {folder}: {error.strerror}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SystemExit(f"oasis: cannot write to {folder} (read-only folder)")


def _run(arguments: argparse.Namespace) -> int:
    _refuse_early(arguments)
    settings = _source_settings(arguments)
    if settings.origin is not None:
        _stage_origin(
            settings,
            arguments.period or arguments.period_from,
            arguments.period or arguments.period_to,
        )
    settings, scan = _prepare(arguments)
    from orchestration.automation import partition_periods

    partitions = partition_periods(scan)
    if not partitions:
        raise SystemExit(f"oasis: no closed period (no cost pools) in {settings.source}")
    closed = sorted(scan.closed_periods)
    first, last = (
        (arguments.period, arguments.period)
        if arguments.period
        else (arguments.period_from or partitions[0], arguments.period_to or partitions[-1])
    )
    for period in (first, last):
        if period not in partitions:
            raise SystemExit(
                f"oasis: {_not_a_partition(period, settings.source, scan, partitions)}"
            )
    # The partitions start at the first fact (a prepayment, say); the closed periods, the
    # months with cost pools, are what the P&L covers.
    from orchestration.console import RunConsole

    console = RunConsole(
        settings.reports / "logs" / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.log", arguments.output
    )
    console.say(
        f"Running {_months(first, last)} (partitions {_months(partitions[0], partitions[-1])}; "
        f"closed periods, with cost pools: {_months(closed[0], closed[-1])})"
    )
    from pipelines.method_settings import changed_since_last_build, read_method_settings

    changed = changed_since_last_build(settings.warehouse, read_method_settings(settings.warehouse))
    if changed:
        console.say(f"Settings changed since the last build ({'; '.join(changed)}):")
        console.say("  every period is rebuilt, whatever periods were asked for.")
    with console.capture():
        result = _execute(first, last)
    log = _keep_log_with_run(console.log_path, settings.reports, result.run_id)
    if not result.success:
        _tell_failure(console, result, log)
        return 1
    _tell_success(console, settings, result.run_id, log)
    return 0


def _execute(first: str, last: str):
    """The job over periods first to last, in this process; its log records go to the
    console of `oasis run` (orchestration/console.py)."""
    from dagster import DagsterInstance

    from orchestration.automation import JOB_NAME
    from orchestration.definitions import defs
    from orchestration.partitions import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG

    job = defs().resolve_job_def(JOB_NAME)
    with DagsterInstance.get() as instance:
        return job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"oasis_console": {}}},
            tags={PARTITION_RANGE_START_TAG: first, PARTITION_RANGE_END_TAG: last},
        )


def _keep_log_with_run(log: Path, reports: Path, run_id: str) -> Path:
    """Moves the run's log into its report folder, beside its summary and audit."""
    from pipelines.audit_report import run_report_folder

    kept = run_report_folder(reports, run_id) / "run.log"
    log.replace(kept)
    return kept


def _tell_failure(console, result, log: Path) -> None:
    """The last lines of a failed run: what failed in words (the reasons its failure hook
    wrote into the run's report), where the log is, what to do."""
    from orchestration.console import root_cause
    from pipelines.audit_report import read_failure, what_was_published

    failure = read_failure(log.parent)
    if failure is not None:
        console.fail(f"\noasis: the run failed in {', '.join(failure['steps'])}:")
        for reason in failure["reasons"]:
            console.fail(f"  - {reason}")
    else:  # before any step, e.g. another run holds the warehouse
        error = result.get_run_failure_event().event_specific_data.error
        console.fail(f"\noasis: the run could not start: {root_cause(error)}")
    console.fail(f"Full log and report of run {result.run_id[:8]}: {log.parent}")
    published = (
        what_was_published(failure)
        if failure
        else "Nothing was published: BI tools and the feed keep the last good version."
    )
    console.fail(f"{published} Fix the cause above and run again.")


def _tell_success(console, settings: Settings, run_id: str, log: Path) -> None:
    import duckdb

    from pipelines.audit_report import PROFIT_REPORT_FILE
    from pipelines.published_warehouse import published_path
    from pipelines.reports import (
        format_audit_warnings,
        format_cross_sell_quality,
        format_profit_map,
        format_quarantine,
        format_waiting,
        read_run_summary,
    )

    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        summary = read_run_summary(connection)
    for text in (
        "",
        format_profit_map(summary),
        format_cross_sell_quality(summary),
        format_waiting(summary),
        format_quarantine(summary),
        format_audit_warnings(log.parent),
        "",
    ):
        console.say(text)
    console.tell(f"Published: {published_path(settings.warehouse)} (BI tools read this copy)")
    console.tell(f"Exports:   {settings.exports}")
    console.say(f"Warehouse: {settings.warehouse} (the working copy)")
    console.say(f"Reports:   {log.parent} (run log, summary, audit; index.html lists every run)")
    console.tell(f"Profit report: {log.parent / PROFIT_REPORT_FILE}")


def _explain(arguments: argparse.Namespace) -> int:
    import duckdb

    from pipelines.explain import UnknownRow, explain

    settings = resolve_settings(os.environ, warehouse=arguments.warehouse)
    with (
        _reading(settings.warehouse, arguments.working, "oasis explain") as path,
        duckdb.connect(str(path), read_only=True) as connection,
    ):
        try:
            print(explain(connection, arguments.row_id))
        except UnknownRow as error:
            print(f"oasis: {error}", file=sys.stderr)
            return 2
    return 0


def _report(arguments: argparse.Namespace) -> int:
    from pipelines.audit_report import new_report_folder, write_index
    from pipelines.profit_report import UnknownPeriod, write_profit_reports
    from pipelines.published_warehouse import published_path

    settings = resolve_settings(os.environ, warehouse=arguments.warehouse)
    published = published_path(settings.warehouse)
    if not published.exists():
        print(
            f"oasis report: {published} does not exist: no run has published this warehouse "
            "yet (`oasis run` does).",
            file=sys.stderr,
        )
        return 2
    folder = new_report_folder(settings.reports, "report")
    try:
        pages = write_profit_reports(
            published, folder, [arguments.as_of] if arguments.as_of else None
        )
    except UnknownPeriod as error:
        folder.rmdir()
        print(f"oasis report: {error}", file=sys.stderr)
        return 2
    write_index(settings.reports)
    for page in pages:
        print(f"Profit report: {page}")
    return 0


def _check(arguments: argparse.Namespace) -> int:
    settings = resolve_settings(os.environ, warehouse=arguments.warehouse)
    os.environ.update(TOOL_ENVIRONMENT)
    with _reading(settings.warehouse, arguments.working, "oasis check") as path:
        unfinished = _mid_updates(path)
        if unfinished:
            for update in unfinished:
                print(f"oasis check: {path} is {update.describe()}.", file=sys.stderr)
            print(
                "Its raw tables and marts disagree until then: not audited. The next "
                "`oasis run` rebuilds those periods by itself, whatever periods it is asked for.",
                file=sys.stderr,
            )
            return 1
        from expectations.runner import check_warehouse

        return check_warehouse(path, settings.reports)


@contextmanager
def _reading(warehouse: Path, working: bool, command: str) -> Iterator[Path]:
    """The file `command` reads, named on its first line: the audited snapshot of the last
    run that passed its audit, which no run writes (so a reader never stops a run, nor
    reads a half-built warehouse); or with --working the working warehouse, once no run
    holds it (the reader holds it meanwhile)."""
    import duckdb

    from pipelines.published_warehouse import audited_snapshot_path, published_path
    from pipelines.warehouse_lock import hold_warehouse_lock

    if working:
        if not warehouse.exists():
            raise SystemExit(f"oasis: no warehouse at {warehouse}; run `oasis run` first")
        # A day: a reader that asked for the working copy waits for the run to finish. It
        # leaves the lock file's record alone: a killed run's stays for the next start.
        with hold_warehouse_lock(
            warehouse,
            24 * 3600,
            record=False,
            progress=lambda _: print(
                f"{command}: a run is writing {warehouse}; waiting for it to finish ...",
                flush=True,
            ),
        ):
            print(f"{command}: reading the working warehouse {warehouse}", flush=True)
            yield warehouse
        return
    snapshot = audited_snapshot_path(warehouse)
    if not snapshot.exists():
        raise SystemExit(
            f"oasis: no audited snapshot at {snapshot} yet: every run that passes its audit "
            "writes one. Run `oasis run`, or read the working warehouse with --working."
        )
    run = "a run"
    with (
        contextlib.suppress(duckdb.Error),
        duckdb.connect(str(published_path(warehouse)), read_only=True) as connection,
    ):
        run_id, published_at = connection.execute(
            "select run_id, published_at from meta.publication"
        ).fetchone()
        run = f"run {run_id[:8]}, audited and published {published_at:%Y-%m-%d %H:%M} UTC"
    print(f"{command}: reading {snapshot} ({run})", flush=True)
    yield snapshot


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
    settings = _source_settings(arguments)
    if settings.origin is not None:
        # The UI shows the periods of the staged folder; the sensor keeps it up to date.
        _refuse_unreadable_origin(settings)
        _stage_origin(settings, None, None)
    settings, _ = _prepare(arguments)
    command = [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "--module-name",
        "orchestration.definitions",
        "--working-directory",
        str(REPO_ROOT),
        "--port",
        str(arguments.port),
    ]
    # Started in the instance folder: from the checkout, `dagster dev` warns that the
    # checkout's dagster.yaml (the template `oasis` copies there) will not be used.
    return subprocess.call(command, cwd=settings.dagster_home)


if __name__ == "__main__":
    sys.exit(main())
