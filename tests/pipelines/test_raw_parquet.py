"""The raw layer's Parquet mirror: another engine reads exactly the records the loader
validated, period folder by period folder, and a load rewrites only the folders it changed.

The landing folder is the smallest demo (50 customers, 2 closed months and the open one)
plus two planted defects, so that the quarantine has a period folder and an all/ folder.
Each test loads as the ingest asset does: `load_table`, then `mirror_raw_table`.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.contract import CONTRACT_VERSION, LOAD_ORDER
from pipelines.demo.erp import write_demo_erp
from pipelines.loader.load import load_table
from pipelines.loader.raw_parquet import (
    FILE_NAME,
    MANIFEST_NAME,
    QUARANTINE,
    WRITING_FOLDER,
    mirror_raw_table,
    raw_parquet_folder,
)
from tests.pipelines.test_extract_loader import set_mtime, write_extract
from tests.pipelines.test_extract_loader_periods import text_rows, with_values

DEMO_TIME = 1_700_000_000  # every demo file; planted files are newer
PLANTED_TIME = DEMO_TIME + 1_000
CLOSED, OPEN = ("2026-09", "2026-10"), "2026-11"
MIRRORED = (*LOAD_ORDER, QUARANTINE)


@pytest.fixture(scope="module")
def landing_template(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("demo") / "landing"
    write_demo_erp(landing, customers=50, months=2, seed=7, file_format="csv")
    con = duckdb.connect()
    customer = text_rows(con, landing / "customers" / "customers.csv")[0]
    invoice = text_rows(con, landing / "invoices" / f"invoices-{CLOSED[1]}.csv")[0]
    con.close()
    write_extract(
        landing,
        "customers",
        "customers-extra.csv",
        [with_values("customers", customer, customer_id="C-NEW", employee_count="many")],
    )  # wrong type: quarantined without a period, in quarantine/all/
    write_extract(
        landing,
        "invoices",
        f"invoices-{CLOSED[1]}-extra.csv",
        [with_values("invoices", invoice, invoice_id="INV-NEW", order_channel="telex")],
    )  # outside the domain: quarantined in its period
    for path in landing.rglob("*.csv"):
        set_mtime(path, PLANTED_TIME if "extra" in path.name else DEMO_TIME)
    return landing


@pytest.fixture
def landing(landing_template, tmp_path) -> Path:
    """A private copy: some tests change files. copy2 keeps the modification times."""
    return Path(shutil.copytree(landing_template, tmp_path / "landing", copy_function=shutil.copy2))


@pytest.fixture
def warehouse(tmp_path) -> Path:
    return tmp_path / "wh" / "warehouse.duckdb"


@pytest.fixture
def con(warehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    warehouse.parent.mkdir()
    connection = duckdb.connect(str(warehouse))
    yield connection
    connection.close()


def load(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    warehouse: Path,
    table: str,
    periods: Sequence[str] | None = None,
) -> None:
    """As orchestration/ingest.py does."""
    load_table(con, landing, table, periods=periods)
    mirror_raw_table(con, warehouse, table, periods)


@pytest.fixture
def loaded(con, landing, warehouse) -> Path:
    """Every table loaded whole; the raw Parquet folder."""
    for table in LOAD_ORDER:
        load(con, landing, warehouse, table)
    return raw_parquet_folder(warehouse)


def parquet_of(raw: Path, table: str) -> str:
    """The table as another engine reads it: every file, no partition column inferred."""
    glob = str(raw / table / "*" / "*.parquet").replace("'", "''")
    return f"read_parquet('{glob}', hive_partitioning = false, union_by_name = false)"


def assert_mirrored(con: duckdb.DuckDBPyConnection, raw: Path, table: str) -> None:
    parquet, database = parquet_of(raw, table), f"raw.{table}"
    counts = [
        con.execute(f"select count(*) from {rows}").fetchone()[0] for rows in (parquet, database)
    ]
    assert counts[0] == counts[1], f"{table}: {counts[0]} rows in Parquet, {counts[1]} in raw"
    for first, second in ((parquet, database), (database, parquet)):
        (extra,) = con.execute(
            f"select count(*) from (select * from {first} except all select * from {second})"
        ).fetchone()
        assert extra == 0, f"{table}: {extra} rows of {first} are not in {second}"


def assert_warehouse_mirrored(warehouse: Path) -> None:
    """Every table and the quarantine of a warehouse built by `oasis run` equal their Parquet."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in MIRRORED:
            assert_mirrored(con, raw_parquet_folder(warehouse), table)


def files_of(raw: Path) -> dict[str, tuple[int, int]]:
    """Every Parquet file -> (inode, modification time): a rewritten file has a new inode."""
    return {
        str(path.relative_to(raw)): (path.stat().st_ino, path.stat().st_mtime_ns)
        for path in raw.rglob("*.parquet")
    }


def manifest_of(raw: Path) -> dict:
    return json.loads((raw / MANIFEST_NAME).read_text())


# --- what another engine reads ----------------------------------------------------------


def test_every_raw_table_and_the_quarantine_is_its_parquet_row_for_row(con, loaded):
    for table in MIRRORED:
        assert_mirrored(con, loaded, table)
    assert con.execute(
        "select count(*) filter (where period is null), count(*) filter (where period = ?) "
        "from raw.quarantine",
        [CLOSED[1]],
    ).fetchone() == (1, 1)  # the planted customer and invoice


def test_a_table_with_a_period_has_a_folder_per_period_and_one_without_a_single_all_folder(
    loaded,
):
    assert sorted(path.name for path in (loaded / "invoices").iterdir()) == [
        f"period={period}" for period in (*CLOSED, OPEN)
    ]
    assert [path.name for path in (loaded / "customers").iterdir()] == ["all"]
    assert sorted(path.name for path in (loaded / QUARANTINE).iterdir()) == [
        "all",
        f"period={CLOSED[1]}",
    ]
    assert {path.name for path in loaded.rglob("*") if path.is_file()} == {
        FILE_NAME,
        MANIFEST_NAME,
    }


def test_the_parquet_keeps_every_column_in_its_order_and_type(con, loaded):
    for table in MIRRORED:
        in_parquet = con.execute(f"describe select * from {parquet_of(loaded, table)}").fetchall()
        in_raw = con.execute(f"describe raw.{table}").fetchall()
        assert [column[:2] for column in in_parquet] == [column[:2] for column in in_raw]
    described = con.execute(f"describe select * from {parquet_of(loaded, 'invoices')}")
    types = {name: data_type for name, data_type, *_ in described.fetchall()}
    assert types["freight_charged"] == "DECIMAL(18,6)"
    assert types["invoice_date"] == "DATE"
    assert list(types)[-3:] == ["_period", "_source_file", "_source_row"]


def test_an_empty_table_keeps_a_file_with_its_columns(con, landing, warehouse):
    for path in (landing / "customers").glob("*-extra.csv"):
        path.unlink()
    load(con, landing, warehouse, "customers")
    raw = raw_parquet_folder(warehouse)
    assert [path.name for path in (raw / QUARANTINE).iterdir()] == ["all"]
    assert con.execute(f"select count(*) from {parquet_of(raw, QUARANTINE)}").fetchone() == (0,)
    assert_mirrored(con, raw, QUARANTINE)


# --- what a load rewrites ---------------------------------------------------------------


def test_reloading_one_period_rewrites_only_that_periods_folders(con, landing, warehouse, loaded):
    before = files_of(loaded)
    load(con, landing, warehouse, "invoices", [CLOSED[1]])
    after = files_of(loaded)
    rewritten = {
        f"invoices/period={CLOSED[1]}/{FILE_NAME}",
        f"quarantine/period={CLOSED[1]}/{FILE_NAME}",
    }
    assert after.keys() == before.keys()
    assert {path for path in after if after[path] != before[path]} == rewritten
    for table in MIRRORED:
        assert_mirrored(con, loaded, table)


def test_a_period_a_reload_leaves_empty_loses_its_folder(con, landing, warehouse, loaded):
    (landing / "sales_activities" / f"sales_activities-{OPEN}.csv").unlink()
    load(con, landing, warehouse, "sales_activities", [OPEN])
    assert not (loaded / "sales_activities" / f"period={OPEN}").exists()
    assert [
        entry["period"] for entry in manifest_of(loaded)["tables"]["sales_activities"]["periods"]
    ] == list(CLOSED)
    assert_mirrored(con, loaded, "sales_activities")


def test_a_full_reload_rewrites_every_period_and_removes_those_gone(
    con, landing, warehouse, loaded
):
    (landing / "sales_activities" / f"sales_activities-{OPEN}.csv").unlink()
    before = files_of(loaded)
    load(con, landing, warehouse, "sales_activities")
    after = files_of(loaded)
    assert sorted(path.name for path in (loaded / "sales_activities").iterdir()) == [
        f"period={period}" for period in CLOSED
    ]
    for period in CLOSED:
        path = f"sales_activities/period={period}/{FILE_NAME}"
        assert after[path] != before[path]
    assert_mirrored(con, loaded, "sales_activities")


def move_an_invoice_to_the_second_month(con: duckdb.DuckDBPyConnection, landing: Path) -> tuple:
    """A newer invoices file with the first month's first invoice dated in the second
    month; returns that invoice's record."""
    first = text_rows(con, landing / "invoices" / f"invoices-{CLOSED[0]}.csv")[0]
    moved = write_extract(
        landing,
        "invoices",
        "invoices-moved.csv",
        [with_values("invoices", first, invoice_date=f"{CLOSED[1]}-02")],
    )
    set_mtime(moved, PLANTED_TIME + 1)
    return first


def test_a_period_load_that_deletes_a_row_of_another_period_rewrites_that_period_too(
    con, landing, warehouse, loaded
):
    # Given a newer file that moves an invoice of the first month to the second
    first = move_an_invoice_to_the_second_month(con, landing)
    # When only the second month is reloaded: its load deletes the older version in the first
    load(con, landing, warehouse, "invoices", [CLOSED[1]])
    # Then the first month's Parquet lost that invoice too
    assert con.execute(
        f"select count(*) from {parquet_of(loaded, 'invoices')} where invoice_id = ?", [first[0]]
    ).fetchone() == (1,)
    assert_mirrored(con, loaded, "invoices")


# --- a run that died half-way -----------------------------------------------------------


def test_a_load_that_died_before_its_parquet_is_repaired_by_the_next_runs_reload(
    con, landing, warehouse, loaded
):
    # Given a load that moved an invoice and committed, and a run that died before its mirror
    move_an_invoice_to_the_second_month(con, landing)
    load_table(con, landing, "invoices", periods=[CLOSED[1]])
    # When the next run reloads the periods the dead run marked (pipelines/mid_update.py)
    load(con, landing, warehouse, "invoices", [CLOSED[1]])
    # Then the Parquet is raw.invoices again, the month the dead load changed included
    assert_mirrored(con, loaded, "invoices")


def test_a_mirror_that_died_between_its_renames_is_repaired_by_the_next_one(
    con, landing, warehouse, loaded
):
    # Given a mirror that died after renaming a period's folder away and while writing another
    writing = loaded / WRITING_FOLDER
    writing.mkdir()
    os.rename(
        loaded / "invoices" / f"period={CLOSED[0]}", writing / f"invoices.period={CLOSED[0]}.old"
    )
    half_written = writing / f"invoices.period={CLOSED[1]}" / FILE_NAME
    half_written.parent.mkdir()
    half_written.write_bytes(b"PAR1")
    # When the next run loads another period of that table
    load(con, landing, warehouse, "invoices", [OPEN])
    # Then the missing period is back and nothing temporary is left
    assert (loaded / "invoices" / f"period={CLOSED[0]}" / FILE_NAME).is_file()
    assert not writing.exists()
    assert_mirrored(con, loaded, "invoices")


# --- the manifest -----------------------------------------------------------------------


def test_the_manifest_lists_every_file_with_its_rows_and_the_tables_columns(con, loaded):
    manifest = manifest_of(loaded)
    assert manifest["contract_version"] == CONTRACT_VERSION
    assert manifest["tables"].keys() == set(MIRRORED)
    for table, entry in manifest["tables"].items():
        columns = [row[:2] for row in con.execute(f"describe raw.{table}").fetchall()]
        assert [(column["name"], column["type"]) for column in entry["columns"]] == columns
        (rows,) = con.execute(f"select count(*) from raw.{table}").fetchone()
        assert entry["rows"] == sum(period["rows"] for period in entry["periods"]) == rows
        for period in entry["periods"]:
            path = loaded / period["path"]
            assert con.execute("select count(*) from read_parquet(?)", [str(path)]).fetchone() == (
                period["rows"],
            )
            assert datetime.fromisoformat(period["written_at"]).utcoffset() == UTC.utcoffset(None)
        on_disk = {str(path.relative_to(loaded)) for path in (loaded / table).rglob(FILE_NAME)}
        assert on_disk == {period["path"] for period in entry["periods"]}
    periods = [entry["period"] for entry in manifest["tables"]["invoices"]["periods"]]
    assert periods == [*CLOSED, OPEN]
    assert [entry["period"] for entry in manifest["tables"]["customers"]["periods"]] == [None]
