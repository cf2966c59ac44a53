"""pipelines/csv_files.py: text cells that a spreadsheet would run as a formula are written
with a quote before them; numbers, nulls and other text are written as they are."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines.csv_files import write_csv


def _read(path: Path) -> list[list[str]]:
    with path.open(newline="") as source:
        return list(csv.reader(source))


def test_text_that_starts_a_formula_gets_a_quote_and_numbers_stay_numbers(tmp_path: Path) -> None:
    table = pa.table(
        {
            "customer_id": [
                '=HYPERLINK("http://x.invalid","C5")',
                "+1",
                "-2+3",
                "@SUM(A1)",
                "\t=1",
                "\r=1",
                "C6=ok",  # a formula sign later in the text is harmless
                None,
            ],
            "amount": pa.array([Decimal("-12.50")] * 7 + [None], pa.decimal128(18, 2)),
            "rate": [-0.25, -1.0, 0.0, 1.5, -3.0, 2.0, 0.5, None],
            "count": [-1, 2, 3, 4, 5, 6, 7, None],
        }
    )
    path = tmp_path / "out.csv"
    write_csv(table, path)
    header, *rows = _read(path)
    assert header == ["customer_id", "amount", "rate", "count"]
    assert [row[0] for row in rows] == [
        '\'=HYPERLINK("http://x.invalid","C5")',
        "'+1",
        "'-2+3",
        "'@SUM(A1)",
        "'\t=1",
        "'\r=1",
        "C6=ok",
        "",
    ]
    assert rows[0][1:] == ["-12.50", "-0.25", "-1"]
    assert rows[-1][1:] == ["", "", ""]


def test_a_duckdb_result_is_written_batch_by_batch_with_the_same_rule(tmp_path: Path) -> None:
    connection = duckdb.connect()
    rows = connection.sql(
        "select case when i % 2 = 0 then '=' || i else 'ok' || i end as value, -i as minus "
        "from range(5000) as t(i) order by i"
    ).to_arrow_reader()
    path = tmp_path / "out.csv"
    write_csv(rows, path)
    header, *written = _read(path)
    assert header == ["value", "minus"]
    assert len(written) == 5000
    assert written[2] == ["'=2", "-2"] and written[3] == ["ok3", "-3"]


def test_an_empty_table_is_its_header(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_csv(pa.table({"customer_id": pa.array([], pa.string())}), path)
    assert _read(path) == [["customer_id"]]
