"""`make bench`: the full pipeline on demo extracts of growing size.

For each size it generates a demo extract, runs `oasis run` on it in a child process
(the way users run it), and records wall time per stage (from the Dagster instance's
step statistics) and the peak memory of the run. Then it measures monthly operation:
a new month processed on a warehouse built from the months before, and a corrected old
month re-processed. Results go to docs/benchmarks.md.

    python -m orchestration.benchmark          # ~100 k, a small company (400 k, 13 months), ~1 M
    python -m orchestration.benchmark --full   # and ~10 million lines
    python -m orchestration.benchmark --huge   # and ~30 million lines (full build only)
    python -m orchestration.benchmark --long   # and a long history: 80 months, 100 k
                                               # customers of whom most buy rarely

For every run it also lists the dbt nodes that took more than 1% of the run (from the
durations dagster-dbt records on each materialization and check), and how the full build's
time grows with the lines: the exponent k of time ~ lines^k between sizes.
"""

import argparse
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from orchestration.automation import partition_periods
from pipelines.demo.erp import DemoSummary, write_demo_erp
from pipelines.demo_deliveries import correct_month, deliver, land_before
from pipelines.landing import landing_scan
from pipelines.settings import REPO_ROOT

# Invoice lines per customer over 24 months in the demo's default mix (measured):
# customers are chosen to land near each target size.
LINES_PER_CUSTOMER_24_MONTHS = 171


# The demo's history: the shape of the sizes whose growth exponents the report gives.
STANDARD_MONTHS = 24


@dataclass(frozen=True)
class BenchSize:
    lines: int
    months: int = STANDARD_MONTHS
    monthly: bool = True  # also measure a new month and a corrected old month
    customers: int | None = None  # None: as many as the demo's mix needs for the lines
    occasional_share: float = 0.0  # write_demo_erp's share of customers who buy rarely
    engine: str = "duckdb"  # `oasis run --engine`

    @property
    def label(self) -> str:
        label = f"~{self.lines:,} lines, {self.months} months"
        if self.occasional_share:
            label += f", {self.occasional_share:.0%} of customers buying about once a year"
        if self.engine != "duckdb":
            label += f", on {self.engine}"
        return label

    @property
    def customer_count(self) -> int:
        if self.customers is not None:
            return self.customers
        return max(50, round(self.lines * 24 / self.months / LINES_PER_CUSTOMER_24_MONTHS))


SIZES = (
    BenchSize(100_000),
    # A small company: a retailer's 400 thousand lines over 13 months, 4,300 customers.
    BenchSize(400_000, months=13),
    BenchSize(1_000_000),
    # The same company on Spark (docs/spark.md), a full build: every Spark run is one.
    BenchSize(100_000, monthly=False, engine="spark"),
    BenchSize(1_000_000, monthly=False, engine="spark"),
)
FULL_SIZES = (BenchSize(10_000_000),)
# Whether 2 cores and 24 GB carry it, and how time and memory grow past 10 M.
HUGE_SIZES = (BenchSize(30_000_000, monthly=False),)
# A long history of many rare buyers (issue 16: a company of 80 months, 6 M lines and
# 93 thousand customers in its latest window): every customer mart keeps a row per
# customer and as-of period, 80 of them. 95% occasional buyers give 5,190,008 lines at
# 100 thousand customers (seed 7).
LONG_SIZES = (
    BenchSize(5_200_000, months=80, monthly=False, customers=100_000, occasional_share=0.95),
)
# A dbt node is listed when it took more than this share of its run.
NODE_SHARE_LISTED = 0.01
# How much of a failed run's output the report quotes: its error is in the last lines.
FAILED_RUN_LINES = 15


@dataclass(frozen=True)
class TimedRun:
    seconds: float
    peak_rss_gb: float
    stage_seconds: dict[str, float]
    node_seconds: dict[str, float]  # dbt node -> seconds, as dagster-dbt recorded them


@dataclass(frozen=True)
class MonthlyRuns:
    new_month_periods: list[str]  # what the landing sensor would run after the delivery
    new_month: TimedRun
    corrected_month: str
    corrected: TimedRun


class BenchRunFailed(Exception):
    """An `oasis run` of the bench that exited with an error; `output`: its last lines."""

    def __init__(self, command: str, exit_code: int, output: str) -> None:
        super().__init__(f"`{command}` exited with {exit_code}")
        self.output = output


@dataclass(frozen=True)
class FailedSize:
    size: BenchSize
    error: str
    output: str  # the last lines the failed run printed


@dataclass(frozen=True)
class Measurement:
    size: BenchSize
    invoice_lines: int
    customers: int
    generate_seconds: float
    full_build: TimedRun
    floor_seconds: float
    monthly: MonthlyRuns | None


def measure(size: BenchSize, workdir: Path) -> Measurement:
    """The size's runs, in `workdir` (the caller removes it)."""
    customers = size.customer_count
    landing = workdir / "landing"
    started = time.perf_counter()
    demo = write_demo_erp(
        landing, customers=customers, months=size.months, occasional_share=size.occasional_share
    )
    generate_seconds = time.perf_counter() - started
    home = workdir / "home"
    full_build = _timed_oasis_run(home, landing, "--engine", size.engine)
    floor_seconds = _scan_and_aggregate_seconds(home / "warehouse.duckdb")
    shutil.rmtree(home)
    monthly = _measure_monthly(demo, workdir) if size.monthly else None
    return Measurement(
        size=size,
        invoice_lines=demo.rows["invoice_lines"],
        customers=customers,
        generate_seconds=generate_seconds,
        full_build=full_build,
        floor_seconds=floor_seconds,
        monthly=monthly,
    )


def _measure_monthly(demo: DemoSummary, workdir: Path) -> MonthlyRuns:
    """All months but the last built, then the last lands and the periods whose files
    changed run (as the landing sensor would request), then an old month is corrected."""
    *_, new_month = demo.closed_periods
    monthly_landing, monthly_home = workdir / "monthly-landing", workdir / "monthly-home"
    land_before(demo, monthly_landing, new_month)
    _timed_oasis_run(monthly_home, monthly_landing)
    before = landing_scan(monthly_landing).fingerprints()
    deliver(demo, monthly_landing, new_month)
    scan = landing_scan(monthly_landing)
    periods = sorted(scan.changed_periods_since(before) & set(partition_periods(scan)))
    new_month_run = _timed_oasis_run(
        monthly_home, monthly_landing, "--from", periods[0], "--to", periods[-1]
    )
    corrected_month = demo.closed_periods[len(demo.closed_periods) // 2]
    correct_month(monthly_landing, corrected_month)
    corrected = _timed_oasis_run(monthly_home, monthly_landing, "--period", corrected_month)
    return MonthlyRuns(periods, new_month_run, corrected_month, corrected)


def _timed_oasis_run(home: Path, landing: Path, *options: str) -> TimedRun:
    """`oasis run` in a child process, the way users run it; what it prints goes to a log
    beside its home, quoted in the report when it fails."""
    environment = {**os.environ, "OASIS_HOME": str(home)}
    command = [
        sys.executable,
        "-m",
        "orchestration.cli",
        "run",
        "--source",
        str(landing),
        "--warehouse",
        str(home / "warehouse.duckdb"),
        *options,
    ]
    log = home.with_name(f"{home.name}.log")
    started = time.perf_counter()
    with log.open("w") as output:
        child = subprocess.Popen(
            command, env=environment, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    exit_code = os.waitstatus_to_exitcode(status)
    if exit_code != 0:
        said = log.read_text(errors="replace").splitlines()[-FAILED_RUN_LINES:]
        raise BenchRunFailed(f"OASIS_HOME={home} {' '.join(command)}", exit_code, "\n".join(said))
    stage_seconds, node_seconds = _run_statistics(home / "dagster")
    return TimedRun(
        seconds=seconds,
        peak_rss_gb=usage.ru_maxrss / 1024 / 1024,
        stage_seconds=stage_seconds,
        node_seconds=node_seconds,
    )


def _scan_and_aggregate_seconds(warehouse: Path) -> float:
    """The floor: DuckDB's time for one plain scan-and-aggregate of the same lines."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        started = time.perf_counter()
        connection.execute(
            """
            select invoices.customer_id, sum(lines.quantity * lines.unit_price)
            from raw.invoice_lines as lines
            inner join raw.invoices as invoices on lines.invoice_id = invoices.invoice_id
            group by invoices.customer_id
            """
        ).fetchall()
        return time.perf_counter() - started


def _run_statistics(dagster_home: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds per stage of the latest run, from the run's step statistics, and seconds per
    dbt node, from the "Execution Duration" dagster-dbt records on each model's
    materializations (one per period, the same duration) and each test's check evaluation."""
    from dagster import DagsterEventType, DagsterInstance

    os.environ["DAGSTER_HOME"] = str(dagster_home)
    with DagsterInstance.get() as instance:
        [run] = instance.get_runs(limit=1)
        stages: dict[str, float] = {}
        for step in instance.get_run_step_stats(run.run_id):
            stage = "ingest (all extracts)" if step.step_key.startswith("erp__") else step.step_key
            seconds = (step.end_time or 0) - (step.start_time or 0)
            stages[stage] = stages.get(stage, 0.0) + seconds
        # Where each kind of event keeps its node's name and metadata.
        readers = {
            DagsterEventType.ASSET_MATERIALIZATION: lambda data: (
                data.materialization.asset_key.to_user_string(),
                data.materialization.metadata,
            ),
            DagsterEventType.ASSET_CHECK_EVALUATION: lambda data: (data.check_name, data.metadata),
        }
        nodes: dict[str, float] = {}
        for event_type, read in readers.items():
            for record in instance.get_records_for_run(
                run.run_id, of_type=event_type, limit=100_000
            ).records:
                name, metadata = read(record.event_log_entry.dagster_event.event_specific_data)
                if "Execution Duration" in metadata:
                    nodes[name] = float(metadata["Execution Duration"].value)
    return stages, nodes


def growth_exponents(points: list[tuple[int, float]]) -> list[tuple[int, int, float]]:
    """(lines from, lines to, k) for successive sizes, with time ~ lines^k between them."""
    points = sorted(points)
    return [
        (low, high, math.log(high_seconds / low_seconds) / math.log(high / low))
        for (low, low_seconds), (high, high_seconds) in zip(points, points[1:], strict=False)
        if high > low
    ]


def write_report(
    measurements: list[Measurement],
    path: Path,
    command: str,
    failed: Sequence[FailedSize] = (),
    pending: Sequence[BenchSize] = (),
) -> None:
    """docs/benchmarks.md from what was measured; `pending`: the sizes still to run."""
    lines = [
        "# Benchmarks",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} with `{command}` on "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        *(
            [
                "",
                "**In progress:** still to run: "
                + "; ".join(size.label for size in pending)
                + ". This file is written again after each size.",
                "",
            ]
            if pending
            else []
        ),
        "Each row: a demo extract generated, then `oasis run` in a child process; "
        "peak memory is that process's maximum resident set (DuckDB's and dbt's memory "
        "included: dbt runs in a child of it).",
        "",
        "The floor is DuckDB's time for one plain scan-and-aggregate of the same invoice lines "
        "(net revenue by customer, lines joined to invoices); the ratio is `oasis run` over it.",
        "",
        "| engine | invoice lines | months | customers | generate demo s | oasis run s "
        "| peak memory GB | floor s | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in measurements:
        lines.append(
            f"| {m.size.engine} | {m.invoice_lines:,} | {m.size.months} | {m.customers:,} | "
            f"{m.generate_seconds:.1f} | {m.full_build.seconds:.1f} | "
            f"{m.full_build.peak_rss_gb:.2f} | {m.floor_seconds:.2f} | "
            f"{m.full_build.seconds / m.floor_seconds:,.0f} |"
        )
    for failure in failed:
        lines += [
            "",
            f"{failure.size.label}: did not complete, {failure.error}. Its last lines:",
            "",
            "```",
            failure.output,
            "```",
        ]
    lines += [
        "",
        "How the full build's time grows: k in time ~ lines^k between successive sizes of "
        "24 months on one engine (1 is linear; below 1, fixed costs still dominate).",
        "",
        "| engine | from lines | to lines | k |",
        "|---|---:|---:|---:|",
    ]
    for engine in dict.fromkeys(m.size.engine for m in measurements):
        # Sizes of one shape (the demo's 24 months and buying), so that k measures the lines.
        full_builds = [
            (m.invoice_lines, m.full_build.seconds)
            for m in measurements
            if m.size.engine == engine
            and m.size.months == STANDARD_MONTHS
            and not m.size.occasional_share
        ]
        lines += [
            f"| {engine} | {low:,} | {high:,} | {k:.2f} |"
            for low, high, k in growth_exponents(full_builds)
        ]
    monthly = [m for m in measurements if m.monthly]
    lines += [
        "",
        "Monthly operation, on a second warehouse built from all months but the last: the "
        "last month lands and `oasis run --from/--to` runs the periods whose files changed "
        "(what the landing sensor requests; the month's shipments file also holds the "
        "previous month's late shipments). Then one old month is corrected (three lines "
        "changed, one dropped, a payment gone, a pool restated) and `oasis run --period` "
        "re-processes it.",
        "",
        "| invoice lines | months | full build s | new month: periods run | new month s | "
        "share of full build | corrected old month | corrected s |",
        "|---:|---:|---:|---|---:|---:|---|---:|",
    ]
    for m in monthly:
        runs = m.monthly
        lines.append(
            f"| {m.invoice_lines:,} | {m.size.months} | {m.full_build.seconds:.1f} | "
            f"{runs.new_month_periods[0]} to {runs.new_month_periods[-1]} | "
            f"{runs.new_month.seconds:.1f} | {runs.new_month.seconds / m.full_build.seconds:.0%} "
            f"| {runs.corrected_month} | {runs.corrected.seconds:.1f} |"
        )
    runs = [
        (f"{m.invoice_lines:,} lines, {m.size.engine}, {kind}", run)
        for m in measurements
        for kind, run in (
            ("full", m.full_build),
            ("new month", m.monthly.new_month if m.monthly else None),
        )
        if run is not None
    ]
    stages = sorted({stage for _, run in runs for stage in run.stage_seconds})
    lines += [
        "",
        "Seconds per stage (the rest of a run is start-up: imports, reading the landing "
        "folder's periods, parsing dbt when the project changed):",
        "",
        "| stage | " + " | ".join(name for name, _ in runs) + " |",
        "|---|" + "---:|" * len(runs),
    ]
    for stage in stages:
        cells = " | ".join(f"{run.stage_seconds.get(stage, 0.0):.1f}" for _, run in runs)
        lines.append(f"| {stage} | {cells} |")
    lines += [
        "",
        f"dbt nodes that took more than {NODE_SHARE_LISTED:.0%} of their run, in seconds "
        "(models by asset key, tests by check name; dbt runs two threads, so nodes overlap):",
    ]
    for name, run in runs:
        listed = sorted(
            (
                (seconds, node)
                for node, seconds in run.node_seconds.items()
                if seconds > NODE_SHARE_LISTED * run.seconds
            ),
            reverse=True,
        )
        lines += [
            "",
            f"- {name} ({run.seconds:.1f} s, {len(run.node_seconds)} nodes): "
            + (", ".join(f"`{node}` {seconds:.1f}" for seconds, node in listed) or "none"),
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Run it on a quiet machine: other work on the cores skews every number.",
    )
    parser.add_argument("--full", action="store_true", help="also run ~10 million lines")
    parser.add_argument(
        "--huge", action="store_true", help="also run ~30 million lines (a full build only)"
    )
    parser.add_argument(
        "--long",
        action="store_true",
        help="also run a long history: 80 months, 100 k customers, most buying rarely "
        "(a full build only)",
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "benchmarks.md")
    arguments = parser.parse_args()
    sizes = (
        SIZES
        + (FULL_SIZES if arguments.full or arguments.huge else ())
        + (HUGE_SIZES if arguments.huge else ())
        + (LONG_SIZES if arguments.long else ())
    )
    flags = " ".join(
        flag for flag in ("--full", "--huge", "--long") if getattr(arguments, flag[2:])
    )
    command = f"make bench BENCH_FLAGS={flags}" if flags else "make bench"
    measurements: list[Measurement] = []
    failed: list[FailedSize] = []
    with tempfile.TemporaryDirectory(prefix="oasis-bench-") as workdir:
        for number, size in enumerate(sizes):
            print(f"Benchmarking {size.label} ...", flush=True)
            size_folder = Path(workdir) / f"{size.lines}-{size.months}-{size.engine}"
            try:
                latest = measure(size, size_folder)
            except BenchRunFailed as failure:
                failed.append(FailedSize(size, str(failure), failure.output))
                print(f"  failed: {failure}\n{failure.output}", flush=True)
            else:
                measurements.append(latest)
                print(_said(latest), flush=True)
            finally:
                shutil.rmtree(size_folder, ignore_errors=True)
            write_report(measurements, arguments.out, command, failed, sizes[number + 1 :])
    print(f"Wrote {arguments.out}")
    return 1 if failed else 0


def _said(measurement: Measurement) -> str:
    said = (
        f"  full build {measurement.full_build.seconds:.1f} s "
        f"({measurement.full_build.peak_rss_gb:.2f} GB peak)"
    )
    if measurement.monthly:
        said += (
            f", new month {measurement.monthly.new_month.seconds:.1f} s, "
            f"corrected month {measurement.monthly.corrected.seconds:.1f} s"
        )
    return said


if __name__ == "__main__":
    sys.exit(main())
