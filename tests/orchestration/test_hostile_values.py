"""`oasis run` on hostile values: every path (landing, warehouse, reports, exports) holds a
space, an apostrophe and non-ASCII letters, and the extract holds spreadsheet formulas in
ids, names and bad values. The run succeeds, every CSV it writes has the formulas
neutralised, and Parquet and JSONL keep them exact."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from orchestration.checks import published_path
from pipelines.demo_erp import write_demo_erp
from tests.conftest import BuiltWarehouse, run_oasis

HOSTILE_FOLDER = "Ünïcode o'Brien dir"
FORMULA_CUSTOMER = '=HYPERLINK("http://x.invalid","C5")'  # the id of a buying customer
MINUS_CUSTOMER = "-2+3"  # another one's
FORMULA_NAME = "+cmd|' /C calc'!A0"  # that customer's name
DANGLING_CUSTOMER = "@SUM(1+1)"  # an invoice's customer, which does not exist: quarantined
FORMULA_AMOUNT = "=1+2"  # a payment's amount: quarantined
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class HostileRun:
    built: BuiltWarehouse
    reports: Path
    exports: Path


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> HostileRun:
    root = tmp_path_factory.mktemp("hostile") / HOSTILE_FOLDER
    demo = write_demo_erp(
        root / "länding o'folder", customers=150, months=4, seed=7, file_format="csv"
    )
    _plant_formulas(demo.out_dir, demo.closed_periods[-1])
    reports, exports = root / "rëports o'", root / "ëxports o'"
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("OASIS_REPORTS", str(reports))
        environment.setenv("OASIS_EXPORTS", str(exports))
        built = run_oasis(demo, root / "wärehouse o'home")
    return HostileRun(built, reports, exports)


def _plant_formulas(landing: Path, period: str) -> None:
    invoices = landing / "invoices" / f"invoices-{period}.csv"
    with invoices.open(newline="") as source:
        rows = list(csv.DictReader(source))
    buyers = sorted({row["customer_id"] for row in rows})
    renamed = {buyers[0]: FORMULA_CUSTOMER, buyers[1]: MINUS_CUSTOMER}
    for path in landing.rglob("*.csv"):
        text = path.read_text()
        for old, new in renamed.items():
            text = text.replace(f'"{old}"', '"' + new.replace('"', '""') + '"')
        path.write_text(text)
    _edit_first_row(landing / "customers" / "customers.csv", customer_name=FORMULA_NAME)
    _append_copy_of_first_row(invoices, invoice_id="INV-FORMULA", customer_id=DANGLING_CUSTOMER)
    payments = landing / "payments" / f"payments-{period}.csv"
    _append_copy_of_first_row(payments, payment_id="PAY-FORMULA", amount=FORMULA_AMOUNT)


def _edit_first_row(path: Path, **values: str) -> None:
    header, rows = _read(path)
    rows[0].update(values)
    _write(path, header, rows)


def _append_copy_of_first_row(path: Path, **values: str) -> None:
    header, rows = _read(path)
    _write(path, header, [*rows, {**rows[0], **values}])


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as source:
        reader = csv.DictReader(source)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, header)
        writer.writeheader()
        writer.writerows(rows)


def _cells(path: Path) -> dict[str, list[str]]:
    with path.open(newline="", encoding="utf-8") as source:
        reader = csv.DictReader(source)
        columns: dict[str, list[str]] = {name: [] for name in reader.fieldnames or []}
        for row in reader:
            for name, value in row.items():
                columns[name].append(value)
    return columns


def test_a_run_under_paths_with_spaces_apostrophes_and_accents_publishes_everything(
    hostile_run: HostileRun,
) -> None:
    built = hostile_run.built
    assert HOSTILE_FOLDER in str(built.path) and HOSTILE_FOLDER in str(hostile_run.exports)
    assert built.scalar("select count(*) from marts.fct_invoice_line_pnl") > 0
    assert (hostile_run.exports / "customer_policy_flags.manifest.json").exists()
    assert list(hostile_run.reports.glob("*/quarantine.csv"))
    assert published_path(built.path).exists()


def test_every_csv_neutralises_formulas_and_parquet_and_jsonl_keep_them(
    hostile_run: HostileRun,
) -> None:
    csv_files = sorted([*hostile_run.exports.glob("*.csv"), *hostile_run.reports.rglob("*.csv")])
    assert {path.name for path in csv_files} == {
        "customer_policy_flags.csv",
        "customer_policy_flags.changes.csv",
        "quarantine.csv",
    }
    for path in csv_files:
        for column, values in _cells(path).items():
            starting_a_formula = [value for value in values if value.startswith(FORMULA_START)]
            assert starting_a_formula == [], f"{path.name}, {column}"

    feed = _cells(hostile_run.exports / "customer_policy_flags.csv")
    assert {"'" + FORMULA_CUSTOMER, "'" + MINUS_CUSTOMER} <= set(feed["customer_id"])
    changes = _cells(hostile_run.exports / "customer_policy_flags.changes.csv")
    assert "'" + FORMULA_CUSTOMER in changes["customer_id"]
    (quarantine_csv,) = hostile_run.reports.glob("*/quarantine.csv")
    bad_values = set(_cells(quarantine_csv)["bad_value"])
    assert {"'" + DANGLING_CUSTOMER, "'" + FORMULA_AMOUNT} <= bad_values

    parquet = pq.read_table(hostile_run.exports / "customer_policy_flags.parquet")
    assert {FORMULA_CUSTOMER, MINUS_CUSTOMER} <= set(parquet["customer_id"].to_pylist())
    with (hostile_run.exports / "customer_policy_flags.jsonl").open(encoding="utf-8") as lines:
        ids = {json.loads(line)["customer_id"] for line in lines}
    assert {FORMULA_CUSTOMER, MINUS_CUSTOMER} <= ids
