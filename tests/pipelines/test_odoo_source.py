"""Odoo end to end (docs/sources.md, "Odoo"): the demo company stored in Odoo 17's own
tables in a PostgreSQL 15 started by the test, read through mappings/odoo.yml with the
files Odoo lacks beside it, gives the P&L, segments and policy flags of the file route."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.contract import LOAD_ORDER, TABLES
from pipelines.settings import REPO_ROOT
from tests.conftest import BuiltWarehouse, run_oasis
from tests.postgres_server import postgres_database
from tests.source_databases import (
    ODOO_FILE_TABLES,
    PNL_BY_CUSTOMER,
    POLICY_FLAGS,
    SEGMENTS,
    load_odoo_tables,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


def rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_odoo_through_its_mapping_gives_the_marts_of_the_files(
    small_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    landing = small_warehouse.demo.out_dir
    beside = tmp_path / "finance_files"
    for table in ODOO_FILE_TABLES:
        shutil.copytree(landing / table, beside / table)
    with postgres_database("odoo") as server:
        load_odoo_tables(server.dsn("odoo"), landing)
        built = run_oasis(
            small_warehouse.demo,
            tmp_path / "home",
            "--mapping",
            str(REPO_ROOT / "mappings" / "odoo.yml"),
            "--files",
            str(beside),
            source=server.dsn("odoo"),
        )
    # Every contract record, no more (the vendor, the bill and the draft stay out).
    for table in LOAD_ORDER:
        columns = ", ".join(TABLES[table].column_names)
        sql = f"select {columns} from raw.{table} order by all"
        assert rows(built.path, sql) == rows(small_warehouse.path, sql), table
    assert rows(built.path, "select count(*) from raw.quarantine") == [(0,)]
    for sql in (PNL_BY_CUSTOMER, SEGMENTS, POLICY_FLAGS):
        assert rows(built.path, sql) == rows(small_warehouse.path, sql), sql
    flagged = rows(
        built.path,
        "select count(*) filter (where no_discounts or charge_freight), count(distinct segment) "
        "from marts.customer_policy_flags",
    )
    assert flagged[0][0] > 0 and flagged[0][1] == 3  # the comparison covers real flags
