"""Bad input through the real `oasis run`: a malformed CSV line is a bad record like
any other, and the run completes."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.demo.erp import write_demo_erp
from tests.conftest import run_oasis

pytestmark = pytest.mark.e2e

RAGGED = '"PAYX1","INV00000300",2026-08-15,10.00,"payment","extra"'  # a field too many


def test_a_run_with_one_ragged_payments_line_completes_and_quarantines_that_line(
    tmp_path: Path,
):
    demo = write_demo_erp(tmp_path / "landing", customers=50, months=3, file_format="csv")
    payments = sorted((demo.out_dir / "payments").glob("*.csv"))[0]
    lines_before = payments.read_bytes().count(b"\n")
    with payments.open("a", encoding="utf-8") as file:
        file.write(RAGGED + "\n")
    built = run_oasis(demo, tmp_path / "home")
    assert built.query(
        "select table_name, source_file, source_row, column_name, bad_value, reason, "
        "record_json ->> 'csv_line_number' from raw.quarantine where column_name = 'csv_line'"
    ) == [
        (
            "payments",
            str(payments.absolute()),
            lines_before,  # the header is line 1: record n is line n + 1
            "csv_line",
            RAGGED,
            "malformed CSV line: more fields than the header",
            str(lines_before + 1),
        )
    ]
    assert (
        built.scalar(
            "select count(*) from raw.payments where _source_file = ?", [str(payments.absolute())]
        )
        == lines_before - 1
    )
