"""The extract loader: contract checks, quarantine, newest file wins, CSV = Parquet.

Each fixture row starts from a good record of its table and states only what it
changes; a planted defect says so in a comment on its line.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.contract import LOAD_ORDER, TABLES
from pipelines.loader.load import (
    LoadResult,
    ParentNotLoadedError,
    load_table,
    quarantine_summary,
)
from pipelines.loader.reading import ExtractError

Row = tuple[str | None, ...]

GOOD_VALUES: dict[str, dict[str, str | None]] = {
    "customers": {
        "customer_name": "Acme Tools",
        "industry": "construction",
        "region": "north",
        "created_date": "2020-03-01",
        "sales_rep_id": "REP-1",
        "employee_count": "120",
        "est_annual_spend": "250000.50",
        "acquisition_channel": "referral",
    },
    "products": {
        "product_name": "Safety glasses",
        "product_family": "eye_protection",
        "brand": "Clearview",
        "category": "ppe",
        "unit_weight_kg": "0.05",
        "list_price": "4.00",
        "standard_cost": "1.60",
    },
    "invoices": {
        "customer_id": "C-1",
        "order_date": "2024-01-02",
        "invoice_date": "2024-01-03",
        "sales_rep_id": "REP-1",
        "order_channel": "phone",
        "ship_method": "standard",
        "freight_charged": "0",
        "expedite_charged": "0",
        "payment_terms_days": "30",
        "currency": "EUR",
    },
    "invoice_lines": {
        "sku": "SKU-1",
        "quantity": "10",
        "unit_list_price": "4.00",
        "unit_price": "3.50",
        "discount_code": None,
        "unit_cost": "1.60",
        "warehouse_id": "WH-1",
        "backordered": "false",
    },
    "returns": {
        "invoice_id": "INV-1",
        "line_number": "1",
        "credit_amount": "3.50",
        "reason_code": "damaged",
        "disposition": "restock",
        "restocking_fee_charged": "0",
    },
}


def _row(table: str, values: dict[str, str | None]) -> Row:
    record = GOOD_VALUES[table] | values
    return tuple(record[name] for name in TABLES[table].column_names)


def customer(customer_id: str, **values: str | None) -> Row:
    return _row("customers", {"customer_id": customer_id, **values})


def product(sku: str, **values: str | None) -> Row:
    return _row("products", {"sku": sku, **values})


def invoice(invoice_id: str, **values: str | None) -> Row:
    return _row("invoices", {"invoice_id": invoice_id, **values})


def line(invoice_id: str, line_number: str, **values: str | None) -> Row:
    return _row("invoice_lines", {"invoice_id": invoice_id, "line_number": line_number, **values})


def a_return(return_id: str, return_date: str, quantity: str, **values: str | None) -> Row:
    return _row(
        "returns",
        {"return_id": return_id, "return_date": return_date, "quantity": quantity, **values},
    )


CUSTOMERS = [
    customer("C-1"),
    customer("C-2", industry=None, region=None, created_date=None, employee_count=None),
]

PRODUCTS = [
    product("SKU-1"),
    product("SKU-2", product_name="Work gloves", brand=None),
]

INVOICES = [
    invoice("INV-1"),
    invoice("INV-2", customer_id="C-2", ship_method="expedited", expedite_charged="5"),
    invoice("INV-3", customer_id="C-999"),  # foreign key: customer C-999 does not exist
    invoice("INV-4", currency="USD"),  # second currency: the others are in EUR
    invoice("INV-5", order_channel="telex"),  # domain: no such order channel
    invoice("INV-6", order_date=None),  # missing required value
    invoice("INV-7", invoice_date="05/01/2024"),  # wrong type: date not in ISO-8601
    invoice("INV-8", payment_terms_days="30.5"),  # wrong type: integer with a fraction
]

INVOICE_LINES = [
    line("INV-1", "1"),
    line("INV-1", "2", sku="SKU-2", quantity="2.5", backordered="true"),
    line("INV-1", "3", unit_price="3.1234567"),  # decimal with 7 places: rejected, not rounded
    line("INV-2", "1", quantity="0"),  # quantity not above zero
    line("INV-2", "2", quantity="ten"),  # wrong type: not a decimal
    line("INV-2", "3", backordered="maybe"),  # wrong type: not a boolean
    line("INV-2", "4"),  # duplicate key: INV-2 line 4 twice in this file
    line("INV-2", "4", quantity="3"),  # duplicate key: INV-2 line 4 twice in this file
    line("INV-3", "1"),  # foreign key: INV-3 was quarantined, so it is not in raw.invoices
    line("INV-2", "5", sku="SKU-404"),  # foreign key: product SKU-404 does not exist
    line("INV-2", "6", sku=None, quantity="-1"),  # two problems: missing sku, quantity below 0
    line("INV-2", "7"),
]

# INV-1 line 1 sold 10 and line 2 sold 2.5. The file is not in date order on purpose:
# returns are judged in the order (return_date, return_id).
RETURNS = [
    a_return("R-2", "2024-02-10", "5"),
    a_return("R-1", "2024-02-01", "4"),
    a_return("R-3", "2024-02-20", "2"),  # over two returns: 4 + 5 + 2 = 11 of 10 sold
    a_return("R-4", "2024-02-25", "1"),  # fits: R-3 was refused, so 4 + 5 + 1 = 10
    a_return("R-5", "2024-02-01", "3", line_number="2"),  # more than sold: 3 of 2.5
    a_return("R-6", "2024-02-01", "1", line_number="9"),  # foreign key: INV-1 has no line 9
    a_return("R-7", "2024-02-01", "1", disposition="recycle"),  # domain: no such disposition
]

EXTRACT = {
    "customers": CUSTOMERS,
    "products": PRODUCTS,
    "invoices": INVOICES,
    "invoice_lines": INVOICE_LINES,
    "returns": RETURNS,
}


def write_extract(
    landing: Path, table: str, file_name: str, rows: list[Row], columns: list[str] | None = None
) -> Path:
    """Write rows as text: CSV with empty fields for nulls, or Parquet string columns."""
    columns = columns or TABLES[table].column_names
    path = landing / table / file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(columns)
            writer.writerows(["" if value is None else value for value in row] for row in rows)
    else:
        values = {
            name: pa.array([row[i] for row in rows], pa.string()) for i, name in enumerate(columns)
        }
        pq.write_table(pa.table(values), path)
    return path


def write_landing(landing: Path, suffix: str = ".csv") -> Path:
    for table, rows in EXTRACT.items():
        write_extract(landing, table, f"2024-01{suffix}", rows)
    return landing


def load_all(con: duckdb.DuckDBPyConnection, landing: Path) -> dict[str, LoadResult]:
    tables = [table for table in LOAD_ORDER if (landing / table).is_dir()]
    return {table: load_table(con, landing, table) for table in tables}


def quarantined(con: duckdb.DuckDBPyConnection, table: str) -> set[tuple]:
    """(file name, row, column, bad value, reason) of the table's quarantine rows."""
    rows = con.execute(
        """
        select source_file, source_row, column_name, bad_value, reason
        from raw.quarantine where table_name = ?
        """,
        [table],
    ).fetchall()
    return {(Path(file).name, *rest) for file, *rest in rows}


def raw_keys(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    key = ", ".join(TABLES[table].key)
    return con.execute(f"select {key} from raw.{table} order by {key}").fetchall()


def domain_reason(table: str, column: str) -> str:
    return f"value outside domain: expected one of {', '.join(TABLES[table].column(column).domain)}"


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.fixture
def loaded(con, tmp_path) -> dict[str, LoadResult]:
    return load_all(con, write_landing(tmp_path / "landing"))


# --- good records -------------------------------------------------------------------


def test_good_records_load_typed_in_contract_order_with_their_source(con, tmp_path, loaded):
    columns = con.execute(
        """
        select column_name, data_type from information_schema.columns
        where table_schema = 'raw' and table_name = 'invoice_lines' order by ordinal_position
        """
    ).fetchall()
    contract = TABLES["invoice_lines"]
    assert columns == [
        *((c.name, c.warehouse_type.upper().replace(" ", "")) for c in contract.columns),
        ("_period", "VARCHAR"),
        ("_source_file", "VARCHAR"),
        ("_source_row", "BIGINT"),
    ]
    second_line = con.execute(
        "select * from raw.invoice_lines where invoice_id = 'INV-1' and line_number = 2"
    ).fetchone()
    source = tmp_path / "landing" / "invoice_lines" / "2024-01.csv"
    assert second_line[3] == Decimal("2.5")
    assert second_line[9] is True
    assert second_line[-2:] == (str(source), 2)


def test_customers_and_products_load_completely(con, loaded):
    assert raw_keys(con, "customers") == [("C-1",), ("C-2",)]
    assert raw_keys(con, "products") == [("SKU-1",), ("SKU-2",)]
    assert loaded["customers"].rows_quarantined == 0


# --- checks 1-4 and 5, 6, 8: one planted defect each ----------------------------------


def test_each_invoice_defect_is_quarantined_with_row_column_value_and_reason(con, loaded):
    assert quarantined(con, "invoices") == {
        (
            "2024-01.csv",
            3,
            "customer_id",
            "C-999",
            "foreign key points nowhere: no customers row with customer_id equal to this value",
        ),
        ("2024-01.csv", 4, "currency", "USD", "mixed currencies: USD, company currency is EUR"),
        ("2024-01.csv", 5, "order_channel", "telex", domain_reason("invoices", "order_channel")),
        ("2024-01.csv", 6, "order_date", None, "missing required value"),
        (
            "2024-01.csv",
            7,
            "invoice_date",
            "05/01/2024",
            "wrong type: expected ISO-8601 date YYYY-MM-DD",
        ),
        (
            "2024-01.csv",
            8,
            "payment_terms_days",
            "30.5",
            "wrong type: expected integer without a fraction",
        ),
    }
    assert raw_keys(con, "invoices") == [("INV-1",), ("INV-2",)]


def test_each_invoice_line_defect_is_quarantined_with_row_column_value_and_reason(con, loaded):
    decimal = "wrong type: expected decimal(18, 6): at most 12 digits before and 6 after the point"
    duplicate = "duplicate key (invoice_id, line_number) in one file"
    assert quarantined(con, "invoice_lines") == {
        ("2024-01.csv", 3, "unit_price", "3.1234567", decimal),
        ("2024-01.csv", 4, "quantity", "0", "quantity must be above zero"),
        ("2024-01.csv", 5, "quantity", "ten", decimal),
        (
            "2024-01.csv",
            6,
            "backordered",
            "maybe",
            "wrong type: expected boolean (true/false, t/f, yes/no, y/n, 1/0)",
        ),
        ("2024-01.csv", 7, "invoice_id, line_number", "INV-2, 4", duplicate),
        ("2024-01.csv", 8, "invoice_id, line_number", "INV-2, 4", duplicate),
        (
            "2024-01.csv",
            9,
            "invoice_id",
            "INV-3",
            "foreign key points nowhere: no invoices row with invoice_id equal to this value",
        ),
        (
            "2024-01.csv",
            10,
            "sku",
            "SKU-404",
            "foreign key points nowhere: no products row with sku equal to this value",
        ),
        ("2024-01.csv", 11, "sku", None, "missing required value"),
        ("2024-01.csv", 11, "quantity", "-1", "quantity must be above zero"),
    }
    assert raw_keys(con, "invoice_lines") == [("INV-1", 1), ("INV-1", 2), ("INV-2", 7)]


def test_a_record_with_several_problems_counts_once(loaded):
    result = loaded["invoice_lines"]
    assert result.rows_read == 12
    assert result.rows_loaded == 3
    assert result.rows_quarantined == 9
    assert result.quarantine_reasons["quantity must be above zero"] == 2
    assert result.superseded_rows == 0


def test_seven_decimal_places_are_not_rounded_into_the_warehouse(con, loaded):
    (count,) = con.execute(
        "select count(*) from raw.invoice_lines where unit_price = 3.123457"
    ).fetchone()
    assert count == 0


def test_quarantine_keeps_the_whole_original_record_as_text(con, loaded):
    (record,) = con.execute(
        """
        select record_json from raw.quarantine
        where table_name = 'invoice_lines' and source_row = 3
        """
    ).fetchone()
    assert record == (
        '{"invoice_id":"INV-1","line_number":"3","sku":"SKU-1","quantity":"10",'
        '"unit_list_price":"4.00","unit_price":"3.1234567","discount_code":null,'
        '"unit_cost":"1.60","warehouse_id":"WH-1","backordered":"false"}'
    )


def test_quarantine_names_the_full_path_of_the_file(con, tmp_path, loaded):
    files = con.execute("select distinct source_file from raw.quarantine").fetchall()
    assert {Path(file).parent.parent for (file,) in files} == {tmp_path / "landing"}


# --- check 7: returns ---------------------------------------------------------------


def test_returns_may_not_exceed_what_the_line_sold_minus_earlier_returns(con, loaded):
    over = "return exceeds what the invoice line sold minus earlier returns"
    assert quarantined(con, "returns") == {
        ("2024-01.csv", 3, "quantity", "2", over),
        ("2024-01.csv", 5, "quantity", "3", over),
        (
            "2024-01.csv",
            6,
            "invoice_id, line_number",
            "INV-1, 9",
            "foreign key points nowhere: no invoice_lines row with invoice_id, line_number "
            "equal to this value",
        ),
        ("2024-01.csv", 7, "disposition", "recycle", domain_reason("returns", "disposition")),
    }
    assert raw_keys(con, "returns") == [("R-1",), ("R-2",), ("R-4",)]


# --- check 8: currencies --------------------------------------------------------------


def test_a_given_company_currency_overrides_the_most_frequent_one(con, tmp_path, loaded):
    result = load_table(con, tmp_path / "landing", "invoices", company_currency="USD")
    # INV-1, INV-2 and INV-3: checks 5-8 all judge the records that passed checks 1-4.
    assert result.quarantine_reasons["mixed currencies: EUR, company currency is USD"] == 3
    assert raw_keys(con, "invoices") == [("INV-4",)]


def test_a_currency_tie_goes_to_the_first_currency_in_the_alphabet(con, tmp_path, loaded):
    landing = tmp_path / "tie"
    invoices = [
        invoice("INV-1", currency="USD"),  # second currency: USD and EUR tie, EUR comes first
        invoice("INV-2", currency="EUR"),
    ]
    write_extract(landing, "invoices", "2024-01.csv", invoices)
    result = load_table(con, landing, "invoices")
    assert result.quarantine_reasons == {"mixed currencies: USD, company currency is EUR": 1}


# --- newest file wins -----------------------------------------------------------------


def set_mtime(path: Path, seconds: int) -> None:
    os.utime(path, (seconds, seconds))


def test_the_newest_file_by_modification_time_wins(con, tmp_path):
    landing = tmp_path / "landing"
    corrected = [customer("C-1", customer_name="Acme Tools Ltd")]  # newer by mtime: wins
    originals = [
        customer("C-1", customer_name="Acme"),  # superseded, though its file name sorts last
        customer("C-2"),
    ]
    correction = write_extract(landing, "customers", "a_correction.csv", corrected)
    original = write_extract(landing, "customers", "z_original.csv", originals)
    set_mtime(original, 1_700_000_000)
    set_mtime(correction, 1_700_000_100)
    result = load_table(con, landing, "customers")
    assert con.execute(
        "select customer_id, customer_name, _source_file from raw.customers order by 1"
    ).fetchall() == [
        ("C-1", "Acme Tools Ltd", str(correction)),
        ("C-2", "Acme Tools", str(original)),
    ]
    assert (result.rows_loaded, result.rows_quarantined, result.superseded_rows) == (2, 0, 1)
    assert result.files == (str(original), str(correction))


def test_files_with_the_same_modification_time_are_ordered_by_name(con, tmp_path):
    landing = tmp_path / "landing"
    corrected = [customer("C-1", customer_name="Acme Tools Ltd")]  # same mtime, later name: wins
    first = write_extract(landing, "customers", "2024-01.csv", [customer("C-1")])
    second = write_extract(landing, "customers", "2024-02.csv", corrected)
    for path in (first, second):
        set_mtime(path, 1_700_000_000)
    load_table(con, landing, "customers")
    assert con.execute("select customer_name from raw.customers").fetchall() == [
        ("Acme Tools Ltd",)
    ]


def test_a_bad_correction_is_quarantined_and_the_last_good_version_stays(con, tmp_path):
    landing = tmp_path / "landing"
    corrected = [customer("C-1", employee_count="many")]  # wrong type in the newer version
    original = write_extract(landing, "customers", "2024-01.csv", [customer("C-1")])
    correction = write_extract(landing, "customers", "2024-01-fix.csv", corrected)
    set_mtime(original, 1_700_000_000)
    set_mtime(correction, 1_700_000_100)
    result = load_table(con, landing, "customers")
    assert con.execute("select _source_file from raw.customers").fetchall() == [(str(original),)]
    assert (result.rows_loaded, result.rows_quarantined, result.superseded_rows) == (1, 1, 0)


# --- reloads --------------------------------------------------------------------------


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    tables = {table: con.execute(f"select * from raw.{table}").fetchall() for table in EXTRACT}
    tables["quarantine"] = con.execute(
        "select * exclude (loaded_at) from raw.quarantine order by all"
    ).fetchall()
    return tables


def test_loading_twice_gives_the_same_tables_and_quarantine(con, tmp_path, loaded):
    before = snapshot(con)
    load_all(con, tmp_path / "landing")
    assert snapshot(con) == before


def test_a_reload_replaces_only_its_own_tables_quarantine_rows(con, tmp_path, loaded):
    write_extract(tmp_path / "landing", "invoices", "2024-01.csv", [invoice("INV-1")])
    load_table(con, tmp_path / "landing", "invoices")
    assert quarantined(con, "invoices") == set()
    assert len(quarantined(con, "invoice_lines")) == 10


# --- formats --------------------------------------------------------------------------


def test_csv_and_parquet_give_the_same_result(tmp_path):
    def load(suffix: str) -> tuple[dict, dict]:
        with duckdb.connect() as con:
            results = load_all(con, write_landing(tmp_path / suffix.strip("."), suffix))
            tables = snapshot(con)
        for rows in tables.values():  # the source files differ only in their paths
            rows[:] = [tuple(_file_name(value) for value in row) for row in rows]
        counts = {table: (r.rows_loaded, r.quarantine_reasons) for table, r in results.items()}
        return tables, counts

    assert load(".csv") == load(".parquet")


def _file_name(value: object) -> object:
    if isinstance(value, str) and value.endswith((".csv", ".parquet")):
        return Path(value).stem
    return value


def test_typed_parquet_columns_are_checked_as_their_text(con, tmp_path):
    landing = tmp_path / "landing"
    path = landing / "customers" / "2024-01.parquet"
    path.parent.mkdir(parents=True)
    con.execute(
        f"""
        copy (
            select 'C-1' as customer_id, 'Acme' as customer_name, null as industry,
                null as region, date '2020-03-01' as created_date, null as sales_rep_id,
                120::integer as employee_count, 250000.5::decimal(12, 2) as est_annual_spend,
                null as acquisition_channel
            union all
            select 'C-2', 'Birch', null, null, timestamp '2021-05-01 00:00:00', null, 8, 1 / 3,
                null  -- a double with 16 decimal places: rejected, not rounded
        ) to '{path}'
        """
    )
    result = load_table(con, landing, "customers")
    assert con.execute(
        "select customer_id, created_date::varchar, employee_count, est_annual_spend "
        "from raw.customers"
    ).fetchall() == [("C-1", "2020-03-01", 120, Decimal("250000.5"))]
    assert result.quarantine_reasons == {
        "wrong type: expected decimal(18, 6): at most 12 digits before and 6 after the point": 1
    }


def test_parquet_files_read_together_number_their_records_as_each_file_alone(con, tmp_path):
    landing = tmp_path / "landing"
    names = TABLES["customers"].column_names
    write_extract(landing, "customers", "a.parquet", [customer("C-1"), customer("C-2")])
    write_extract(landing, "customers", "b.parquet", [customer("C-3"), customer("C-4")])
    write_extract(  # another schema: columns in another order, one more
        landing,
        "customers",
        "c.parquet",
        [("x", *reversed(customer("C-5"))), ("y", *reversed(customer("C-6")))],
        ["comment", *reversed(names)],
    )
    write_extract(  # a column of its own that DuckDB's row numbering would clash with
        landing,
        "customers",
        "d.parquet",
        [("7", *customer("C-7")), ("7", *customer("C-8"))],
        ["file_row_number", *names],
    )
    write_extract(landing, "customers", "e.csv", [customer("C-9"), customer("C-10")])
    for seconds, name in enumerate(["a.parquet", "b.parquet", "c.parquet", "d.parquet", "e.csv"]):
        set_mtime(landing / "customers" / name, 1_700_000_000 + seconds)
    load_table(con, landing, "customers")
    rows = con.execute(
        "select customer_id, regexp_extract(_source_file, '[a-e][.][a-z]+$'), _source_row "
        "from raw.customers order by rowid"
    ).fetchall()
    assert rows == [
        ("C-1", "a.parquet", 1),
        ("C-2", "a.parquet", 2),
        ("C-3", "b.parquet", 1),
        ("C-4", "b.parquet", 2),
        ("C-5", "c.parquet", 1),
        ("C-6", "c.parquet", 2),
        ("C-7", "d.parquet", 1),
        ("C-8", "d.parquet", 2),
        ("C-9", "e.csv", 1),
        ("C-10", "e.csv", 2),
    ]


def test_extra_columns_are_ignored(con, tmp_path):
    landing = tmp_path / "landing"
    columns = ["erp_internal_id", *TABLES["customers"].column_names, "comment"]
    write_extract(landing, "customers", "2024-01.csv", [("77", *customer("C-1"), "vip")], columns)
    load_table(con, landing, "customers")
    loaded_columns = con.execute("select column_name from (describe raw.customers)").fetchall()
    assert [name for (name,) in loaded_columns] == [
        *TABLES["customers"].column_names,
        "_source_file",
        "_source_row",
    ]


def test_a_date_with_a_midnight_time_is_a_date_but_not_with_another_time(con, tmp_path):
    landing = tmp_path / "landing"
    customers = [
        customer("C-1", created_date="2020-03-01 00:00:00"),
        customer("C-2", created_date="2020-03-01 09:30:00"),  # wrong type: time would be lost
    ]
    write_extract(landing, "customers", "2024-01.csv", customers)
    result = load_table(con, landing, "customers")
    assert raw_keys(con, "customers") == [("C-1",)]
    assert result.quarantine_reasons == {"wrong type: expected ISO-8601 date YYYY-MM-DD": 1}


def test_a_timestamp_with_a_time_zone_offset_is_refused_not_shifted(con, tmp_path, loaded):
    landing = tmp_path / "landing"
    columns = TABLES["service_contacts"].column_names
    contacts = [
        ("SC-1", "C-1", "2024-01-02T10:15:00", "phone", "12.5", None),
        ("SC-2", "C-1", "2024-01-02T10:15:00+02:00", "chat", "3", None),  # offset: wrong type
    ]
    write_extract(landing, "service_contacts", "2024-01.csv", contacts, columns)
    result = load_table(con, landing, "service_contacts")
    assert con.execute(
        "select contact_id, contact_ts::varchar from raw.service_contacts"
    ).fetchall() == [("SC-1", "2024-01-02 10:15:00")]
    assert result.quarantine_reasons == {
        "wrong type: expected ISO-8601 timestamp YYYY-MM-DD HH:MM:SS without time zone": 1
    }


# --- extracts that cannot be loaded at all --------------------------------------------


def test_a_missing_column_raises_naming_the_file_and_the_column(con, tmp_path):
    landing = tmp_path / "landing"
    without_channel = TABLES["customers"].column_names[:-1]  # acquisition_channel is last
    write_extract(landing, "customers", "2024-01.csv", [customer("C-1")])
    broken = write_extract(
        landing, "customers", "2024-02.csv", [customer("C-2")[:-1]], without_channel
    )
    with pytest.raises(ExtractError, match=f"{re.escape(str(broken))}.*acquisition_channel"):
        load_table(con, landing, "customers")


# --- CSV lines that cannot be parsed, files that cannot be read ----------------------

CUSTOMER_HEADER = ",".join(TABLES["customers"].column_names).encode()
GOOD_LINE = b"C-1,Acme Tools,construction,north,2020-03-01,REP-1,120,250000.50,referral"


def write_customer_lines(landing: Path, lines: list[bytes], newline: bytes = b"\n") -> Path:
    """A customers CSV file of the header and these raw lines, as the ERP wrote them."""
    path = landing / "customers" / "2024-01.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(newline.join([CUSTOMER_HEADER, *lines, b""]))
    return path


def good_line(customer_id: str) -> bytes:
    return GOOD_LINE.replace(b"C-1", customer_id.encode(), 1)


def quarantined_lines(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select source_row, column_name, bad_value, reason, record_json ->> 'csv_line_number' "
        "from raw.quarantine order by source_row"
    ).fetchall()


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        (good_line("C-2") + b",extra", "malformed CSV line: more fields than the header"),
        (good_line("C-2").rsplit(b",", 1)[0], "malformed CSV line: fewer fields than the header"),
        (b'"C-2","Acme "Tools",x,north,,,,,', "malformed CSV line: unbalanced quote"),
    ],
    ids=["a field too many", "a field too few", "an unbalanced quote"],
)
def test_a_malformed_csv_line_is_quarantined_and_the_other_lines_load(
    con, tmp_path, bad_line, reason
):
    landing = tmp_path / "landing"
    write_customer_lines(
        landing,
        [
            good_line("C-1"),
            bad_line,  # record 2, line 3: cannot be parsed
            good_line("C-3"),
            good_line("C-4").replace(b"120", b"12.5"),  # wrong type: record 4, line 5
        ],
    )
    result = load_table(con, landing, "customers")
    assert con.execute("select customer_id, _source_row from raw.customers").fetchall() == [
        ("C-1", 1),
        ("C-3", 3),
    ]
    assert quarantined_lines(con) == [
        (2, "csv_line", bad_line.decode(), reason, "3"),
        (4, "employee_count", "12.5", "wrong type: expected integer without a fraction", None),
    ]
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (4, 2, 2)


def test_a_quote_that_never_closes_fails_the_file_when_it_takes_the_rest_along(con, tmp_path):
    landing = tmp_path / "landing"
    unclosed = good_line("C-2").replace(b"Acme", b'"Acme', 1)  # line 3: the quote never closes
    path = write_customer_lines(landing, [good_line("C-1"), unclosed, *[GOOD_LINE] * 200])
    with pytest.raises(ExtractError, match=f"cannot read {re.escape(str(path))}: line 3 "):
        load_table(con, landing, "customers")


def test_a_malformed_line_is_numbered_by_the_lines_of_the_file_not_its_records(con, tmp_path):
    landing = tmp_path / "landing"
    write_customer_lines(
        landing,
        [
            good_line("C-1").replace(b"Acme Tools", b'"Acme\r\nTools"'),  # lines 2-3
            good_line("C-2") + b",extra",  # record 2, line 4
            good_line("C-3") + b",extra",  # record 3, line 5
            good_line("C-4"),
        ],
        newline=b"\r\n",
    )
    load_table(con, landing, "customers")
    assert [(row, line) for row, *_, line in quarantined_lines(con)] == [(2, "4"), (3, "5")]
    assert con.execute("select customer_id, _source_row from raw.customers").fetchall() == [
        ("C-1", 1),
        ("C-4", 4),
    ]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_nul_byte_quarantines_its_record(con, tmp_path, suffix):
    landing = tmp_path / "landing"
    rows = [customer("C-1"), customer("C-2", customer_name="Acme\x00Tools")]  # NUL byte
    write_extract(landing, "customers", f"2024-01{suffix}", rows)
    result = load_table(con, landing, "customers")
    assert raw_keys(con, "customers") == [("C-1",)]
    assert result.quarantine_reasons == {"NUL byte in the value": 1}


def test_a_latin_1_file_fails_naming_the_file_the_encoding_and_the_line(con, tmp_path):
    landing = tmp_path / "landing"
    latin_1 = good_line("C-2").replace(b"Acme Tools", "Caf\u00e9 Tools".encode("latin-1"))
    path = write_customer_lines(landing, [good_line("C-1"), latin_1])  # line 3
    with pytest.raises(ExtractError) as raised:
        load_table(con, landing, "customers")
    assert str(raised.value) == f"cannot read {path}: line 3 is not UTF-8, the contract's encoding"


def good_parquet_bytes(tmp_path: Path) -> bytes:
    return write_extract(
        tmp_path / "good", "customers", "c.parquet", [customer("C-1")]
    ).read_bytes()


@pytest.mark.parametrize("cut", ["empty", "truncated"])
def test_an_empty_or_truncated_parquet_file_fails_naming_the_file(con, tmp_path, cut):
    content = good_parquet_bytes(tmp_path)
    path = tmp_path / "landing" / "customers" / "2024-01.parquet"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"" if cut == "empty" else content[: len(content) // 2])
    with pytest.raises(ExtractError, match=f"^cannot read {re.escape(str(path))}: [^\n]+$"):
        load_table(con, tmp_path / "landing", "customers")


@pytest.mark.parametrize(
    ("file_name", "content"),
    [
        ("2024-01.parquet", b"not a parquet file"),
        ("2024-01.csv", b""),
        ("2024-01.csv", b"customer_id,customer_\xe9name\n"),
    ],
    ids=["not parquet", "empty csv", "header not utf-8"],
)
def test_an_unreadable_file_raises_naming_the_file(con, tmp_path, file_name, content):
    path = tmp_path / "landing" / "customers" / file_name
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with pytest.raises(ExtractError, match=f"cannot read {re.escape(str(path))}"):
        load_table(con, tmp_path / "landing", "customers")


def test_a_missing_table_folder_raises_naming_the_folder(con, tmp_path):
    with pytest.raises(ExtractError, match=re.escape(str(tmp_path / "customers"))):
        load_table(con, tmp_path, "customers")


def test_an_empty_folder_loads_an_empty_table(con, tmp_path):
    (tmp_path / "customers").mkdir()
    result = load_table(con, tmp_path, "customers")
    assert (result.files, result.rows_read, result.rows_loaded) == ((), 0, 0)
    assert con.execute("select count(*) from raw.customers").fetchone() == (0,)


def test_a_table_whose_parent_is_not_loaded_raises(con, tmp_path):
    write_extract(tmp_path, "invoices", "2024-01.csv", [invoice("INV-1")])
    with pytest.raises(ParentNotLoadedError, match="raw.customers is not loaded"):
        load_table(con, tmp_path, "invoices")


# --- report ---------------------------------------------------------------------------


def test_quarantine_summary_counts_records_per_table_and_reason(con, loaded):
    summary = quarantine_summary(con)
    assert ("invoice_lines", "quantity must be above zero", 2) in summary
    assert sum(records for table, _, records in summary if table == "returns") == 4
    assert {table for table, _, _ in summary} == {"invoices", "invoice_lines", "returns"}
