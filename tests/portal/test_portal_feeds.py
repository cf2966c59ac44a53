"""The portal feeds and the Parquet marts that the session's real `oasis run` published."""

from __future__ import annotations

import csv
import json

import duckdb
import pyarrow.parquet as pq
import pytest

from pipelines.feeds import Feed
from pipelines.portal_feeds import PORTAL_FEEDS
from tests.conftest import BuiltWarehouse


def _manifest(built_warehouse: BuiltWarehouse, name: str, folder: str = "") -> dict:
    exports = built_warehouse.path.parent / "exports" / folder
    return json.loads((exports / f"{name}.manifest.json").read_text())


@pytest.mark.parametrize("feed", PORTAL_FEEDS, ids=lambda feed: feed.name)
def test_each_portal_feed_holds_its_mart_for_the_policy_feeds_period_from_the_same_run(
    built_warehouse: BuiltWarehouse, feed: Feed
) -> None:
    policy = _manifest(built_warehouse, "customer_policy_flags")
    manifest = _manifest(built_warehouse, feed.name, "portal")
    folder = built_warehouse.path.parent / "exports" / "portal"
    expected = built_warehouse.scalar(
        f"select count(*) from marts.{feed.mart} where as_of_period = ?",
        [policy["as_of_period"]],
    )

    table = pq.read_table(folder / f"{feed.name}.parquet")
    with (folder / f"{feed.name}.csv").open(encoding="utf-8") as source:
        csv_rows = list(csv.DictReader(source))
    jsonl_rows = (folder / f"{feed.name}.jsonl").read_text().splitlines()

    assert table.schema == feed.schema
    assert table.num_rows == len(csv_rows) == len(jsonl_rows) == expected
    assert manifest["as_of_period"] == policy["as_of_period"]
    assert manifest["run_id"] == policy["run_id"] and manifest["warehouse"] == policy["warehouse"]
    assert manifest["inputs"] == policy["inputs"] and manifest["inputs"]
    assert manifest["schema_version"] == feed.schema_version
    # A first publication: everything is added.
    assert manifest["changes"] == {"added": expected, "changed": 0, "removed": 0}


def test_the_parquet_marts_hold_every_mart_and_reconcile_to_the_cent(
    built_warehouse: BuiltWarehouse,
) -> None:
    link = built_warehouse.path.parent / "exports" / "marts"
    manifest = json.loads((link / "manifest.json").read_text())
    marts = {
        name
        for (name,) in built_warehouse.query(
            """
            select table_name from duckdb_tables() where schema_name = 'marts'
            union all
            select view_name from duckdb_views() where schema_name = 'marts' and not internal
            """
        )
    }
    pnl = built_warehouse.query(
        "select count(*), sum(net_profit), count(distinct period) from marts.fct_invoice_line_pnl"
    )[0]
    allocated = built_warehouse.scalar("select sum(amount) from marts.fct_cost_allocations")
    with duckdb.connect() as connection:
        exported = connection.execute(
            "select count(*), sum(net_profit), count(distinct period) "
            "from read_parquet(?, hive_partitioning = true)",
            [str(link / "fct_invoice_line_pnl" / "*" / "*.parquet")],
        ).fetchone()
        exported_allocated = connection.execute(
            "select sum(amount) from read_parquet(?)",
            [str(link / "fct_cost_allocations" / "*" / "*.parquet")],
        ).fetchone()[0]

    assert link.is_symlink()
    assert set(manifest["marts"]) == set(marts)
    assert manifest["run_id"] == _manifest(built_warehouse, "customer_policy_flags")["run_id"]
    assert exported == pnl and exported_allocated == allocated
