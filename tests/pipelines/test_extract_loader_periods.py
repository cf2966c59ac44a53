"""Period mode of the extract loader: loading some months gives the rows of a full load.

The landing folder is the demo ERP (50 customers, 4 closed months and the open one)
plus planted files; each planted record says what is wrong with it on its line.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.contract import LOAD_ORDER, OWN_PERIOD_TABLES, PERIOD_TABLES, TABLES
from pipelines.demo.erp import write_demo_erp
from pipelines.landing import landing_scan
from pipelines.loader.load import load_table
from pipelines.loader.periods import (
    changed_periods_between,
    changed_periods_since_load,
    landing_files,
    landing_periods,
)
from tests.pipelines.test_extract_loader import set_mtime, write_extract

DEMO_TIME = 1_700_000_000  # every demo file; planted files are newer
CORRECTION_TIME = DEMO_TIME + 1_000
PERIODS = ("2026-07", "2026-08", "2026-09", "2026-10", "2026-11")  # 4 closed, 1 open


def text_rows(con: duckdb.DuckDBPyConnection, path: Path, where: str = "true") -> list[tuple]:
    return con.execute(
        f"select * from read_csv(?, all_varchar = true, header = true) where {where}", [str(path)]
    ).fetchall()


def with_values(table: str, row: tuple, **values: str | None) -> tuple:
    names = TABLES[table].column_names
    return tuple(values.get(name, value) for name, value in zip(names, row, strict=True))


def plant_defects(landing: Path) -> None:
    """Defects of every kind, and a re-delivered, corrected invoices file for July."""
    con = duckdb.connect()
    july = text_rows(con, landing / "invoices" / "invoices-2026-07.csv")
    september_invoice = text_rows(con, landing / "invoices" / "invoices-2026-09.csv")[0][0]
    line = text_rows(con, landing / "invoice_lines" / "invoice_lines-2026-08.csv")[0]
    line_invoice, line_number, sold = line[0], line[1], line[3]

    correction = [
        with_values("invoices", july[0], invoice_date="2026-08-02"),  # moved to August
        with_values("invoices", july[1], invoice_date="2026-08-03"),  # moved to August
        with_values("invoices", july[2], freight_charged="12.5"),  # corrected amount
        with_values("invoices", july[3], currency="EUR"),  # second currency: July's stays
        with_values("invoices", july[4], invoice_date="soon"),  # wrong type: no period
        with_values("invoices", july[5], order_channel="telex"),  # domain
        with_values("invoices", july[6]),  # duplicate key in one file
        with_values("invoices", july[6], freight_charged="1"),  # duplicate key in one file
        *july[7:12],
    ]
    write_extract(landing, "invoices", "invoices-2026-07-corrected.csv", correction)

    lines = TABLES["invoice_lines"]
    good_line = dict(zip(lines.column_names, line, strict=True))
    defects = [
        {**good_line, "invoice_id": september_invoice, "line_number": "97"},  # good, September
        {**good_line, "invoice_id": september_invoice, "line_number": "96"},  # good, September
        {**good_line, "invoice_id": september_invoice, "line_number": "99", "quantity": "ten"},
        {**good_line, "invoice_id": september_invoice, "line_number": "98"},  # duplicate key
        {**good_line, "invoice_id": september_invoice, "line_number": "98"},  # duplicate key
        {**good_line, "invoice_id": "INV-NOPE", "line_number": "1"},  # dangling: home period
        {**good_line, "invoice_id": july[0][0], "line_number": "50"},  # follows its invoice
    ]
    write_extract(
        landing, "invoice_lines", "invoice_lines-extra.csv", [tuple(r.values()) for r in defects]
    )

    returns = [
        # The line sold `sold`: the first return takes it all, the next is one too many.
        ("RET-P1", line_invoice, line_number, "2026-09-01", sold, "1", None, "keep", "0"),
        ("RET-P2", line_invoice, line_number, "2026-10-01", "1", "1", None, "keep", "0"),  # over
        ("RET-P3", line_invoice, "999", "2026-10-02", "1", "1", None, "keep", "0"),  # dangling
    ]
    write_extract(landing, "returns", "returns-extra.csv", returns)

    garbage = [
        ("PAY-G1", july[0][0], "yesterday", "10", "payment"),  # wrong type: no period at all
        ("PAY-G2", "INV-NOPE", None, "10", "payment"),  # missing date, dangling invoice
    ]
    write_extract(landing, "payments", "payments-garbage.csv", garbage)
    con.close()

    for path in landing.rglob("*.csv"):
        set_mtime(path, DEMO_TIME)
    for path in landing.rglob("*-*.csv"):
        if "corrected" in path.name or "extra" in path.name or "garbage" in path.name:
            set_mtime(path, CORRECTION_TIME)


@pytest.fixture(scope="module")
def landing_template(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("demo") / "landing"
    write_demo_erp(landing, customers=50, months=4, seed=11, file_format="csv")
    plant_defects(landing)
    return landing


@pytest.fixture
def landing(landing_template, tmp_path) -> Path:
    """A private copy: some tests change files. copy2 keeps the modification times."""
    return Path(shutil.copytree(landing_template, tmp_path / "landing", copy_function=shutil.copy2))


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def load_whole(con: duckdb.DuckDBPyConnection, landing: Path) -> None:
    for table in LOAD_ORDER:
        load_table(con, landing, table)


def load_periods(con: duckdb.DuckDBPyConnection, landing: Path, periods: list[str]) -> None:
    for table in PERIOD_TABLES:
        load_table(con, landing, table, periods=periods)


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    tables = {
        table: con.execute(f"select * from raw.{table} order by all").fetchall() for table in TABLES
    }
    tables["quarantine"] = con.execute(
        "select * exclude (loaded_at) from raw.quarantine order by all"
    ).fetchall()
    return tables


@pytest.fixture
def full(con, landing) -> dict[str, list[tuple]]:
    load_whole(con, landing)
    return snapshot(con)


# --- the fundamental property ---------------------------------------------------------


def test_the_planted_defects_are_all_quarantined_by_a_full_load(con, full):
    reasons = {
        (table, reason.split(":")[0])
        for table, reason, *_ in con.execute(
            "select table_name, reason from raw.quarantine"
        ).fetchall()
    }
    assert reasons >= {
        ("invoices", "mixed currencies"),
        ("invoices", "wrong type"),
        ("invoices", "value outside domain"),
        ("invoices", "duplicate key (invoice_id) in one file"),
        ("invoice_lines", "wrong type"),
        ("invoice_lines", "duplicate key (invoice_id, line_number) in one file"),
        ("invoice_lines", "foreign key points nowhere"),
        ("returns", "return exceeds what the invoice line sold minus earlier returns"),
        ("returns", "foreign key points nowhere"),
        ("payments", "wrong type"),
    }


@pytest.mark.parametrize(
    "period_sets",
    [[[period] for period in PERIODS], [["2026-07", "2026-09"], ["2026-11"]], [list(PERIODS)]],
    ids=["each period", "two sets", "all at once"],
)
def test_reloading_periods_after_a_full_load_gives_the_full_load(con, landing, full, period_sets):
    for periods in period_sets:
        load_periods(con, landing, periods)
    assert snapshot(con) == full


def test_loading_each_tables_periods_in_order_into_an_empty_warehouse_gives_the_full_load(
    landing, full
):
    with duckdb.connect() as con:
        load_table(con, landing, "customers")
        load_table(con, landing, "products")
        for table in PERIOD_TABLES:
            for period in PERIODS:
                load_table(con, landing, table, periods=[period])
        assert snapshot(con) == full


def test_loading_period_after_period_differs_only_where_a_correction_moved_an_invoice_later(
    landing, full
):
    with duckdb.connect() as con:
        load_table(con, landing, "customers")
        load_table(con, landing, "products")
        for period in PERIODS:
            load_periods(con, landing, [period])
        # July's payment and override of an invoice the correction moved to August were
        # judged before August's invoices were loaded: dangling then. Reloading July fixes it.
        stale = con.execute(
            "select table_name, record_json->>'invoice_id' from raw.quarantine "
            "where period = '2026-07' and reason like 'foreign key%' and table_name <> 'invoices'"
        ).fetchall()
        moved = {
            row[0]
            for row in con.execute(
                "select invoice_id from raw.invoices where _source_file like '%corrected%' "
                "and _period = '2026-08'"
            ).fetchall()
        }
        assert stale and {invoice for _, invoice in stale} <= moved
        load_periods(con, landing, ["2026-07"])
        assert snapshot(con) == full


def test_loading_the_same_periods_twice_gives_the_same_tables(con, landing, full):
    load_periods(con, landing, ["2026-08"])
    once = snapshot(con)
    load_periods(con, landing, ["2026-08"])
    assert snapshot(con) == once == full


def test_a_period_load_replaces_only_its_period(con, landing, full):
    con.execute("update raw.payments set amount = 0 where _period = '2026-09'")
    con.execute("delete from raw.quarantine where table_name = 'payments'")
    load_table(con, landing, "payments", periods=["2026-08"])
    assert con.execute(
        "select count(*) from raw.payments where _period = '2026-09' and amount <> 0"
    ).fetchone() == (0,)
    assert (
        con.execute(
            "select distinct period from raw.quarantine where table_name = 'payments'"
        ).fetchall()
        == []
    )  # the garbage file's records belong to 2026-11, not loaded here


# --- which period a record belongs to -------------------------------------------------


def test_lines_and_shipments_take_their_invoices_period_not_the_ship_date(con, full):
    for table in ("invoice_lines", "shipments"):
        (misplaced,) = con.execute(
            f"""
            select count(*) from raw.{table} as child
            join raw.invoices as invoice using (invoice_id)
            where child._period is distinct from invoice._period
            """
        ).fetchone()
        assert misplaced == 0, table
    (shipped_later,) = con.execute(
        "select count(*) from raw.shipments where strftime(ship_date, '%Y-%m') <> _period"
    ).fetchone()
    assert shipped_later > 0  # the demo ships some month-end invoices the month after


def test_a_record_without_a_period_goes_to_its_files_most_common_period(con, full):
    assert con.execute(
        """
        select distinct period from raw.quarantine
        where table_name = 'invoices' and column_name = 'invoice_date'
        """
    ).fetchall() == [("2026-07",)]
    assert con.execute(
        """
        select distinct period from raw.quarantine
        where table_name = 'invoice_lines' and bad_value = 'INV-NOPE'
        """
    ).fetchall() == [("2026-09",)]


def test_a_file_without_any_period_goes_to_the_tables_latest_period(con, full):
    assert con.execute(
        "select distinct period from raw.quarantine where source_file like '%payments-garbage%'"
    ).fetchall() == [("2026-11",)]


def test_periods_for_a_table_without_a_period_raise_naming_it(con, landing):
    with pytest.raises(ValueError, match="customers"):
        load_table(con, landing, "customers", periods=["2026-07"])


def test_a_period_not_written_yyyy_mm_raises(con, landing, full):
    with pytest.raises(ValueError, match="YYYY-MM"):
        load_table(con, landing, "invoices", periods=["2026-7"])


# --- newest file wins across periods --------------------------------------------------


@pytest.mark.parametrize("period", ["2026-07", "2026-08"])
def test_a_key_moved_to_another_period_keeps_only_its_newest_version(con, landing, period):
    load_table(con, landing, "customers")
    load_table(con, landing, "products")
    load_table(con, landing, "invoices", periods=["2026-07"])
    load_table(con, landing, "invoices", periods=["2026-08"])
    load_table(con, landing, "invoices", periods=[period])
    versions = con.execute(
        """
        select _period, _source_file from raw.invoices
        where invoice_id in (
            select invoice_id from raw.invoices
            where _source_file like '%corrected%' and invoice_date >= '2026-08-01'
        )
        """
    ).fetchall()
    assert len(versions) == 2  # the two moved invoices, once each
    assert all(p == "2026-08" and "corrected" in f for p, f in versions)


def test_a_bad_newest_version_leaves_the_last_good_one(con, full):
    assert con.execute(
        "select currency, _source_file like '%corrected%' from raw.invoices "
        "where invoice_id = (select record_json->>'invoice_id' from raw.quarantine "
        "where reason like 'mixed currencies%')"
    ).fetchall() == [("USD", False)]


# --- the file index ----------------------------------------------------------------


def test_a_period_load_reads_only_the_files_holding_that_period(con, landing, full):
    result = load_table(con, landing, "invoice_lines", periods=["2026-10"])
    assert [Path(path).name for path in result.files] == ["invoice_lines-2026-10.csv"]
    assert result.periods == ("2026-10",)
    moved = load_table(con, landing, "invoice_lines", periods=["2026-08"])
    # July's lines file holds the lines of the two invoices the correction moved to August.
    assert {Path(path).name for path in moved.files} == {
        "invoice_lines-2026-07.csv",
        "invoice_lines-2026-08.csv",
        "invoice_lines-extra.csv",
    }


def test_the_landing_periods_agree_with_and_without_a_warehouse(con, landing):
    scanned = landing_files(landing)
    without = {table: {p for f in files for p in f.periods} for table, files in scanned.items()}
    assert without == landing_periods(con, landing)
    assert without["cost_pools"] == set(PERIODS[:-1])
    assert without["invoice_lines"] == set(PERIODS)
    extra = next(f for f in scanned["invoice_lines"] if f.path.endswith("extra.csv"))
    assert extra.periods == {"2026-07", "2026-08", "2026-09"}  # July and August: a moved invoice


def test_the_tables_with_their_own_period_name_every_period_there_is(landing):
    """`oasis run` reads only these to find the partitions: lines and shipments, orphans
    and lines of a moved invoice included, add no period."""
    every_table = landing_scan(landing)
    own_period_tables = landing_scan(landing, tables=OWN_PERIOD_TABLES)
    assert set(own_period_tables.files) == set(every_table.files) - {"invoice_lines", "shipments"}
    assert own_period_tables.periods == every_table.periods == set(PERIODS)
    assert own_period_tables.closed_periods == every_table.closed_periods


def test_changed_files_name_the_periods_they_touch(con, landing, full):
    assert changed_periods_since_load(con, landing) == {}
    before = landing_files(landing)
    september = landing / "payments" / "payments-2026-09.csv"
    september.write_text(september.read_text() + "PAY-NEW,INV-X,2026-10-03,1,payment\n")
    os.utime(september, ns=(CORRECTION_TIME * 10**9, CORRECTION_TIME * 10**9))
    assert changed_periods_since_load(con, landing) == {"payments": {"2026-09", "2026-10"}}
    assert changed_periods_between(before, landing_files(landing)) == {
        "payments": {"2026-09", "2026-10"}
    }
    load_table(con, landing, "payments", periods=["2026-09", "2026-10"])
    assert changed_periods_since_load(con, landing) == {}
