"""ERP databases as sources (docs/sources.md): a PostgreSQL 15 started by the test holds the
contract's own tables; `oasis run --source postgresql://...` must give the marts of the
file route, and a period run must ask the database for that period only."""

from __future__ import annotations

from pathlib import Path

import duckdb
import psycopg2
import pyarrow.parquet as pq
import pytest

from pipelines.contract import LOAD_ORDER
from pipelines.demo.erp import write_demo_erp
from pipelines.loader.load import load_table
from pipelines.sources.readers import DatabaseReader, SourceError
from pipelines.sources.staging import (
    changed_periods_in_source,
    label_quarantine,
    source_fingerprints,
    stage_source,
)
from tests.conftest import BuiltWarehouse, run_oasis
from tests.postgres_server import postgres_database
from tests.source_databases import (
    PNL_BY_CUSTOMER,
    POLICY_FLAGS,
    SEGMENTS,
    load_contract_tables,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    return write_demo_erp(tmp_path_factory.mktemp("landing"), customers=50, months=2, seed=7)


def mart_rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.e2e
@pytest.mark.postgres
def test_a_database_of_contract_tables_gives_the_marts_of_the_files(
    small_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    with postgres_database("erp") as server:
        load_contract_tables(server.dsn("erp"), small_warehouse.demo.out_dir)
        built = run_oasis(small_warehouse.demo, tmp_path / "home", source=server.dsn("erp"))
    assert "records from postgresql://oasis@127.0.0.1" in built.run_output
    for sql in (PNL_BY_CUSTOMER, SEGMENTS, POLICY_FLAGS):
        from_database = mart_rows(built.path, sql)
        assert from_database, sql
        assert from_database == mart_rows(small_warehouse.path, sql), sql


@pytest.mark.postgres
def test_a_period_is_read_with_its_date_range_in_the_query(demo, tmp_path: Path) -> None:
    period = "2026-10"
    with postgres_database("erp") as server:
        load_contract_tables(server.dsn("erp"), demo.out_dir)
        reader = DatabaseReader(server.dsn("erp"))
        try:
            stage_source(reader, {}, tmp_path / "staged", periods=[period])
        finally:
            reader.close()
    # One query reads invoices (a cheap count per period aside): the period's range only.
    reads = [query for query in reader.queries if ' as _source_key from "invoices"' in query]
    assert len(reads) == 1
    assert "(\"invoice_date\") >= cast('2026-10-01' as date)" in reads[0]
    assert "(\"invoice_date\") < cast('2026-11-01' as date)" in reads[0]
    # Invoice lines follow their invoice: a sub-query with the same range.
    (lines,) = [query for query in reader.queries if 'as _source_key from "invoice_lines"' in query]
    assert 'from "invoices" where' in lines and "cast('2026-10-01' as date)" in lines
    staged = tmp_path / "staged" / "invoices"
    assert sorted(path.name for path in staged.iterdir()) == [f"{period}.parquet"]
    with duckdb.connect() as con:
        (expected,) = con.execute(
            "select count(*) from read_parquet(?) where strftime(invoice_date, '%Y-%m') = ?",
            [str(demo.out_dir / "invoices" / "*.parquet"), period],
        ).fetchone()
    assert pq.read_metadata(staged / f"{period}.parquet").num_rows == expected > 0


@pytest.mark.postgres
def test_a_bad_database_record_is_quarantined_with_its_table_and_key(demo, tmp_path: Path) -> None:
    with postgres_database("erp") as server:
        load_contract_tables(server.dsn("erp"), demo.out_dir)
        with psycopg2.connect(server.dsn("erp")) as admin, admin.cursor() as cursor:
            cursor.execute(
                "update invoices set order_channel = 'telex' "
                "where invoice_id = (select min(invoice_id) from invoices) returning invoice_id"
            )
            (bad_invoice,) = cursor.fetchone()
        reader = DatabaseReader(server.dsn("erp"))
        try:
            stage_source(reader, {}, tmp_path / "staged")
        finally:
            reader.close()
        label = f"{reader.label} invoices"
    with duckdb.connect() as con:
        for name in LOAD_ORDER:
            load_table(con, tmp_path / "staged", name)
            label_quarantine(con, tmp_path / "staged", name)
        rows = con.execute(
            "select source_file, column_name, bad_value from raw.quarantine "
            "where table_name = 'invoices'"
        ).fetchall()
    assert len(rows) == 1
    (source_file, column, bad_value) = rows[0]
    assert (column, bad_value) == ("order_channel", "telex")
    assert source_file == f"{label}, key {bad_invoice}"


def test_a_password_in_the_url_is_refused_without_printing_it() -> None:
    with pytest.raises(SourceError) as refused:
        DatabaseReader("postgresql://erp:s3cret@127.0.0.1:1/erp")
    assert "s3cret" not in str(refused.value)
    assert "PGPASSWORD" in str(refused.value)


@pytest.mark.postgres
def test_the_sensor_sees_the_periods_whose_rows_changed(demo) -> None:
    with postgres_database("erp") as server:
        load_contract_tables(server.dsn("erp"), demo.out_dir)
        reader = DatabaseReader(server.dsn("erp"))
        try:
            before = source_fingerprints(reader, {})
            with psycopg2.connect(server.dsn("erp")) as admin, admin.cursor() as cursor:
                cursor.execute(
                    "insert into payments select 'PAY-LATE', invoice_id, date '2026-10-30', "
                    "1.00, 'payment' from invoices order by invoice_id limit 1"
                )
            after = source_fingerprints(reader, {})
            with psycopg2.connect(server.dsn("erp")) as admin, admin.cursor() as cursor:
                cursor.execute(
                    "update customers set region = 'north' where customer_id = 'C000001'"
                )
            unchanged_counts = source_fingerprints(reader, {})
        finally:
            reader.close()
    assert changed_periods_in_source(before, before, "2026-10") == set()
    assert changed_periods_in_source(before, after, "2026-10") == {"2026-10"}
    # Without an `updated` column (a mapping names one) an edit in place moves no count.
    assert changed_periods_in_source(after, unchanged_counts, "2026-10") == set()
    assert set(before) == {
        "customers",
        "products",
        "cost_pools",
        "gl_summary",
        "invoices",
        "returns",
        "payments",
        "service_contacts",
        "sales_activities",
        "policy_overrides",
    }


@pytest.mark.postgres
def test_the_database_sensor_stages_and_runs_the_periods_that_changed(
    demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster import DagsterInstance, build_sensor_context

    from orchestration.automation import new_extracts_sensor
    from orchestration.resources import LandingFolderResource

    first, latest = demo.closed_periods[0], demo.closed_periods[-1]
    (tmp_path / "dagster").mkdir()
    instance = DagsterInstance.local_temp(str(tmp_path / "dagster"))
    with postgres_database("erp") as server:
        load_contract_tables(server.dsn("erp"), demo.out_dir)
        monkeypatch.setenv("OASIS_HOME", str(tmp_path))
        monkeypatch.setenv("OASIS_SOURCE", server.dsn("erp"))
        staged = tmp_path / "staged_source"

        def tick(cursor):
            with build_sensor_context(
                instance=instance,
                cursor=cursor,
                resources={"landing": LandingFolderResource(path=str(staged))},
            ) as context:
                result = new_extracts_sensor(context)
            ranges = [
                (
                    request.tags.get("dagster/asset_partition_range_start", request.partition_key),
                    request.tags.get("dagster/asset_partition_range_end", request.partition_key),
                )
                for request in result.run_requests
            ]
            return result.cursor, ranges

        cursor, ranges = tick(None)
        assert ranges == [(first, latest)]  # the first look stages and runs everything
        cursor, ranges = tick(cursor)
        assert ranges == []
        with psycopg2.connect(server.dsn("erp")) as admin, admin.cursor() as cursor_:
            cursor_.execute(
                f"insert into payments select 'PAY-LATE', invoice_id, date '{first}-28', "
                "1.00, 'payment' from invoices order by invoice_id limit 1"
            )
        cursor, ranges = tick(cursor)
    instance.dispose()
    assert ranges == [(first, first)]
    late = pq.read_table(staged / "payments" / f"{first}.parquet").column("payment_id")
    assert "PAY-LATE" in late.to_pylist()
