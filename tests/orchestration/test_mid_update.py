"""A run in which one table fails after another changed leaves the working warehouse
marked mid-update: `oasis check --working` says so, and the next run repairs it by itself,
whatever period it runs."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
from pathlib import Path

import pytest

from pipelines.demo.erp import write_demo_erp
from tests.conftest import run_oasis
from tests.pipelines.test_raw_parquet import assert_warehouse_mirrored

pytestmark = pytest.mark.e2e

# A restated pool: the P&L of its period must carry it once the warehouse is repaired.
RESTATED_BY = 1000.0


def oasis(home: Path, *arguments: str) -> tuple[int, str]:
    """The real `oasis` command in this process; returns its exit code and its output."""
    from orchestration.cli import main

    saved = dict(os.environ)
    os.environ["OASIS_HOME"] = str(home)
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            code = main(list(arguments))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return code, output.getvalue()


def test_a_half_done_run_is_reported_mid_update_and_repaired_by_the_next_run(
    tmp_path: Path,
) -> None:
    # Given a warehouse built from a landing folder
    demo = write_demo_erp(tmp_path / "erp", customers=60, months=3, seed=4, file_format="csv")
    landing = tmp_path / "landing"
    shutil.copytree(demo.out_dir, landing)
    home = tmp_path / "home"
    built = run_oasis(demo, home, source=landing)
    first, last = demo.closed_periods[0], demo.closed_periods[-1]

    # When a pool of the last period is restated while that period's service contacts
    # lose a column, and the last period runs
    pools = landing / "cost_pools" / f"cost_pools-{last}.csv"
    header, pool_line, *rest = pools.read_text().splitlines()
    period, pool, amount, *others = pool_line.split(",")
    restated = float(amount) + RESTATED_BY
    restated_line = ",".join([period, pool, f"{restated:.2f}", *others])
    pools.write_text("\n".join([header, restated_line, *rest]) + "\n")
    contacts = landing / "service_contacts" / f"service_contacts-{last}.csv"
    good_contacts = contacts.read_text()
    contacts.write_text(
        "\n".join(line.rsplit(",", 1)[0] for line in good_contacts.splitlines()) + "\n"
    )  # no reason_code column: the table fails, dbt does not build
    code, output = oasis(home, "run", "--source", str(landing), "--period", last)
    assert code == 1, output
    raw_amount = built.scalar(
        "select amount from raw.cost_pools where period = ? and pool = ?",
        [last, pool.strip('"')],
    )
    assert abs(float(raw_amount) - restated) < 0.005  # the pools changed, the marts did not

    # Then the check says the working warehouse is mid-update, instead of wrong numbers
    code, output = oasis(home, "check", "--working", "--warehouse", str(built.path))
    assert code == 1
    assert re.search(
        rf"is mid-update since run [0-9a-f-]{{36}} \(started [^)]+\): {last} must be rebuilt",
        output,
    ), output
    assert "allocation_pools_conserved" not in output  # not audited

    # When the file is repaired and an earlier period runs
    contacts.write_text(good_contacts)
    repaired = run_oasis(demo, home, "--period", first, source=landing)

    # Then that run rebuilt the last period too: the restated pool is on the P&L
    on_pnl = repaired.scalar(
        "select sum(amount) from marts.fct_cost_allocations where period = ? and pool = ?",
        [last, pool.strip('"')],
    )
    assert abs(float(on_pnl) - restated) < 0.005
    # and the raw Parquet is the raw tables again
    assert_warehouse_mirrored(built.path)
    # and the check passes
    code, output = oasis(home, "check", "--working", "--warehouse", str(built.path))
    assert code == 0, output
    assert "0 with errors" in output
