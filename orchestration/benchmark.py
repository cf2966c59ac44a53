"""`make bench`: the full pipeline on demo extracts of growing size.

For each size it generates a demo extract, runs `oasis run` on it in a child process
(the way users run it), and records wall time per stage (from the Dagster instance's
step statistics) and the peak memory of the run. Then it measures monthly operation:
a new month processed on a warehouse built from the months before, and a corrected old
month re-processed. Results go to docs/benchmarks.md.

    python -m orchestration.benchmark            # ~100 thousand and ~1 million lines
    python -m orchestration.benchmark --full     # and ~10 million lines
"""

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from orchestration.automation import partition_periods
from pipelines.demo_deliveries import correct_month, deliver, land_before
from pipelines.demo_erp import write_demo_erp
from pipelines.landing import scan_landing
from pipelines.settings import REPO_ROOT

# Invoice lines per customer over 24 months in the demo's default mix (measured):
# customers are chosen to land near each target size.
LINES_PER_CUSTOMER_24_MONTHS = 171
TARGET_LINES = (100_000, 1_000_000)
FULL_TARGET_LINES = 10_000_000


@dataclass(frozen=True)
class TimedRun:
    seconds: float
    peak_rss_gb: float
    stage_seconds: dict[str, float]


@dataclass(frozen=True)
class Measurement:
    invoice_lines: int
    customers: int
    generate_seconds: float
    full_build: TimedRun
    floor_seconds: float
    new_month_periods: list[str]  # what the landing sensor would run after the delivery
    new_month: TimedRun
    corrected_month: str
    corrected: TimedRun


def measure(target_lines: int, workdir: Path) -> Measurement:
    customers = max(50, round(target_lines / LINES_PER_CUSTOMER_24_MONTHS))
    landing = workdir / f"landing-{target_lines}"
    started = time.perf_counter()
    demo = write_demo_erp(landing, customers=customers, months=24)
    generate_seconds = time.perf_counter() - started
    home = workdir / f"home-{target_lines}"
    full_build = _timed_oasis_run(home, landing)
    floor_seconds = _scan_and_aggregate_seconds(home / "warehouse.duckdb")

    # Monthly operation: 23 months built, then the 24th lands and the periods whose files
    # changed run (as the landing sensor would request), then an old month is corrected.
    *_, new_month = demo.closed_periods
    monthly_landing, monthly_home = workdir / f"monthly-{target_lines}", workdir / "monthly-home"
    land_before(demo, monthly_landing, new_month)
    _timed_oasis_run(monthly_home, monthly_landing)
    before = scan_landing(monthly_landing).fingerprints()
    deliver(demo, monthly_landing, new_month)
    scan = scan_landing(monthly_landing)
    periods = sorted(scan.periods_changed_since(before) & set(partition_periods(scan)))
    new_month_run = _timed_oasis_run(
        monthly_home, monthly_landing, "--from", periods[0], "--to", periods[-1]
    )
    corrected_month = demo.closed_periods[len(demo.closed_periods) // 2]
    correct_month(monthly_landing, corrected_month)
    corrected = _timed_oasis_run(monthly_home, monthly_landing, "--period", corrected_month)
    shutil.rmtree(monthly_home)
    return Measurement(
        invoice_lines=demo.rows["invoice_lines"],
        customers=customers,
        generate_seconds=generate_seconds,
        full_build=full_build,
        floor_seconds=floor_seconds,
        new_month_periods=periods,
        new_month=new_month_run,
        corrected_month=corrected_month,
        corrected=corrected,
    )


def _timed_oasis_run(home: Path, landing: Path, *options: str) -> TimedRun:
    """`oasis run` in a child process, the way users run it."""
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
    started = time.perf_counter()
    child = subprocess.Popen(
        command,
        env=environment,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(
            f"oasis run failed; rerun it by hand: OASIS_HOME={home} {' '.join(command)}"
        )
    return TimedRun(
        seconds=seconds,
        peak_rss_gb=usage.ru_maxrss / 1024 / 1024,
        stage_seconds=_stage_seconds(home / "dagster"),
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


def _stage_seconds(dagster_home: Path) -> dict[str, float]:
    """Seconds per stage of the latest run, from the run's step statistics."""
    from dagster import DagsterInstance

    os.environ["DAGSTER_HOME"] = str(dagster_home)
    with DagsterInstance.get() as instance:
        [run] = instance.get_runs(limit=1)
        stages: dict[str, float] = {}
        for step in instance.get_run_step_stats(run.run_id):
            stage = "ingest (all extracts)" if step.step_key.startswith("erp__") else step.step_key
            seconds = (step.end_time or 0) - (step.start_time or 0)
            stages[stage] = stages.get(stage, 0.0) + seconds
    return stages


def write_report(measurements: list[Measurement], path: Path) -> None:
    lines = [
        "# Benchmarks",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} with `make bench` (add `BENCH_FLAGS=--full` "
        "for 10 million lines) on "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        "Each row: a 24-month demo extract generated, then `oasis run` in a child process; "
        "peak memory is that process's maximum resident set.",
        "",
        "The floor is DuckDB's time for one plain scan-and-aggregate of the same invoice lines "
        "(net revenue by customer, lines joined to invoices); the ratio is `oasis run` over it.",
        "",
        "| invoice lines | customers | generate demo s | oasis run s | peak memory GB "
        "| floor s | ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in measurements:
        lines.append(
            f"| {m.invoice_lines:,} | {m.customers:,} | {m.generate_seconds:.1f} | "
            f"{m.full_build.seconds:.1f} | {m.full_build.peak_rss_gb:.2f} | "
            f"{m.floor_seconds:.2f} | {m.full_build.seconds / m.floor_seconds:,.0f} |"
        )
    lines += [
        "",
        "Monthly operation, on a second warehouse built from the first 23 months: the 24th "
        "month lands and `oasis run --from/--to` runs the periods whose files changed (what "
        "the landing sensor requests; the month's shipments file also holds the previous "
        "month's late shipments). Then one old month is corrected (three lines changed, one "
        "dropped, a payment gone, a pool restated) and `oasis run --period` re-processes it.",
        "",
        "| invoice lines | full build s | new month: periods run | new month s | "
        "share of full build | corrected old month | corrected s |",
        "|---:|---:|---|---:|---:|---|---:|",
    ]
    for m in measurements:
        lines.append(
            f"| {m.invoice_lines:,} | {m.full_build.seconds:.1f} | "
            f"{m.new_month_periods[0]} to {m.new_month_periods[-1]} | {m.new_month.seconds:.1f} | "
            f"{m.new_month.seconds / m.full_build.seconds:.0%} | {m.corrected_month} | "
            f"{m.corrected.seconds:.1f} |"
        )
    runs = [
        (f"{m.invoice_lines:,} lines, {kind}", run)
        for m in measurements
        for kind, run in (("full", m.full_build), ("new month", m.new_month))
    ]
    stages = sorted({stage for _, run in runs for stage in run.stage_seconds})
    lines += [
        "",
        "Seconds per stage (the rest of a run is start-up: imports, reading the landing "
        "folder's periods, parsing dbt):",
        "",
        "| stage | " + " | ".join(name for name, _ in runs) + " |",
        "|---|" + "---:|" * len(runs),
    ]
    for stage in stages:
        cells = " | ".join(f"{run.stage_seconds.get(stage, 0.0):.1f}" for _, run in runs)
        lines.append(f"| {stage} | {cells} |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also run ~10 million lines")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "benchmarks.md")
    arguments = parser.parse_args()
    targets = TARGET_LINES + ((FULL_TARGET_LINES,) if arguments.full else ())
    measurements = []
    with tempfile.TemporaryDirectory(prefix="oasis-bench-") as workdir:
        for target in targets:
            print(f"Benchmarking ~{target:,} invoice lines ...", flush=True)
            measurements.append(measure(target, Path(workdir)))
            latest = measurements[-1]
            print(
                f"  full build {latest.full_build.seconds:.1f} s "
                f"({latest.full_build.peak_rss_gb:.2f} GB peak), new month "
                f"{latest.new_month.seconds:.1f} s, "
                f"corrected month {latest.corrected.seconds:.1f} s",
                flush=True,
            )
    write_report(measurements, arguments.out)
    print(f"Wrote {arguments.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
