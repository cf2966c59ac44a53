"""The `oasis` command: demo extracts, runs, the UI."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from pipelines.settings import REPO_ROOT, Settings, resolve_settings

# Nothing phones home: dbt, Dagster and GX usage statistics off for us and our children.
QUIET_TOOLS = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "GX_ANALYTICS_ENABLED": "false",
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
        help="materialize every asset: load extracts, build and test the marts, write reports",
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


def _prepare(arguments: argparse.Namespace) -> Settings:
    """Resolves settings, exports them for Dagster and dbt, seeds the Dagster instance,
    creates the demo extract when it is the source and missing, parses dbt."""
    settings = resolve_settings(os.environ, source=arguments.source, warehouse=arguments.warehouse)
    os.environ.update(QUIET_TOOLS)
    os.environ.update(settings.as_environment())
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO_ROOT / "dagster.yaml", settings.dagster_home / "dagster.yaml")
    if settings.uses_demo_source:
        _ensure_demo_source(settings.source)
    elif not settings.source.is_dir():
        raise SystemExit(f"oasis: the landing folder {settings.source} does not exist")

    from orchestration.dbt_project import prepare_dbt_manifest

    print("Parsing the dbt project ...", flush=True)
    prepare_dbt_manifest()
    return settings


def _ensure_demo_source(source: Path) -> None:
    # The marker is written last, so an interrupted generation is redone.
    marker = source / ".complete"
    if marker.exists():
        return
    from pipelines.demo_erp import write_demo_erp

    print(f"Generating the demo ERP extract in {source} ...", flush=True)
    write_demo_erp(source, progress=lambda message: print(f"  {message}", flush=True))
    marker.write_text("demo extract complete\n")


def _run(arguments: argparse.Namespace) -> int:
    settings = _prepare(arguments)

    from dagster import DagsterInstance

    from orchestration.definitions import defs

    job = defs.resolve_job_def("oasis_full_build")
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        )
    if not result.success:
        failed = [event.step_key for event in result.get_step_failure_events()]
        print(f"\noasis: the run failed in {', '.join(failed) or 'its set-up'}.", file=sys.stderr)
        print(f"Open `oasis ui` and look at run {result.run_id} for details.", file=sys.stderr)
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
    os.environ.update(QUIET_TOOLS)
    from expectations.runner import check_warehouse

    return check_warehouse(settings.warehouse, settings.reports)


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
