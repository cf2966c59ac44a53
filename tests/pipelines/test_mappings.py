"""Mapping files (docs/sources.md): an ERP-shaped folder of files read through a YAML
mapping (renames, constants, value maps, SQL and filters) lands as the contract says;
a mistake in the mapping names its YAML line and the contract column."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from pipelines.loader.load import load_table
from pipelines.sources.mapping import MappingError, read_mapping
from pipelines.sources.readers import FolderReader
from pipelines.sources.staging import label_quarantine, stage_source

MAPPING = """\
version: 1
tables:
  customers:
    from: partners
    key: partner_no
    where: kind = 'customer'
    columns:
      customer_id: {sql: "'C' || cast(partner_no as varchar)"}
      customer_name: display_name
      region: {value: north}
      acquisition_channel:
        column: source
        values: {W: web, R: referral}
"""

PARTNERS = [
    {"partner_no": 1, "display_name": "Acme", "kind": "customer", "source": "W"},
    {"partner_no": 2, "display_name": "Supplies Ltd", "kind": "vendor", "source": "R"},
    {"partner_no": 3, "display_name": "", "kind": "customer", "source": "R"},
    {"partner_no": 4, "display_name": "Bolt & Co", "kind": "customer", "source": "T"},
]


def write_partners(folder: Path) -> Path:
    (folder / "partners").mkdir(parents=True)
    with (folder / "partners" / "partners.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(PARTNERS[0]))
        writer.writeheader()
        writer.writerows(PARTNERS)
    return folder


def write_mapping(folder: Path, text: str) -> Path:
    path = folder / "erp.yml"
    path.write_text(text)
    return path


def staged_customers(tmp_path: Path, mapping_text: str) -> duckdb.DuckDBPyConnection:
    source = write_partners(tmp_path / "erp")
    mapping = read_mapping(write_mapping(tmp_path, mapping_text))
    reader = FolderReader(source)
    try:
        stage_source(
            reader, {"customers": mapping["customers"]}, tmp_path / "staged", tables=("customers",)
        )
    finally:
        reader.close()
    con = duckdb.connect()
    load_table(con, tmp_path / "staged", "customers")
    label_quarantine(con, tmp_path / "staged", "customers")
    return con


def test_a_mapping_renames_maps_values_filters_and_keeps_bad_records(tmp_path: Path) -> None:
    con = staged_customers(tmp_path, MAPPING)
    loaded = con.execute(
        "select customer_id, customer_name, region, acquisition_channel "
        "from raw.customers order by all"
    ).fetchall()
    # The vendor is filtered out; the unnamed customer is quarantined, not dropped.
    assert loaded == [("C1", "Acme", "north", "web"), ("C4", "Bolt & Co", "north", "T")]
    quarantined = con.execute(
        "select source_file, column_name, reason from raw.quarantine"
    ).fetchall()
    assert len(quarantined) == 1
    source_file, column, reason = quarantined[0]
    assert (column, reason) == ("customer_name", "missing required value")
    assert source_file.endswith("partners, key 3")


@pytest.mark.parametrize(
    ("broken", "line", "words"),
    [
        (MAPPING.replace("      region:", "      territory:"), 10, "customers.territory"),
        (MAPPING.replace("      customer_name: display_name\n", ""), 7, "customers.customer_name"),
        (MAPPING.replace("    columns:", "    colums:"), 7, "colums"),
        (MAPPING.replace("  customers:", "  clients:"), 3, "'clients' is not a contract table"),
        (MAPPING.replace("{value: north}", "{value: north, column: area}"), 10, "exactly one"),
    ],
)
def test_a_mapping_error_names_its_line_and_column(
    tmp_path: Path, broken: str, line: int, words: str
) -> None:
    with pytest.raises(MappingError) as error:
        read_mapping(write_mapping(tmp_path, broken))
    assert f"erp.yml, line {line}:" in str(error.value)
    assert words in str(error.value)


def test_sql_the_source_refuses_names_its_line_and_column(tmp_path: Path) -> None:
    broken = MAPPING.replace("customer_name: display_name", "customer_name: {sql: nmae || ''}")
    with pytest.raises(MappingError) as error:
        staged_customers(tmp_path, broken)
    assert "erp.yml, line 9: customers.customer_name: the source refused its SQL" in str(
        error.value
    )
