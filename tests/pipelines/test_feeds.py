"""The one feed writer (pipelines/feeds.py) and the Parquet marts (pipelines/parquet_marts.py),
on small DuckDB marts with MARTS.md's columns."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from pipelines.feeds import EmptyFeed, publish_feed, read_feed, stage_feed
from pipelines.parquet_marts import (
    MANIFEST_NAME,
    MartsFolderIsNotALink,
    stage_parquet_marts,
)
from pipelines.portal_feeds import PRODUCT_RANKINGS, PRODUCT_SUBSTITUTES, RETURN_REASON_ALERTS
from pipelines.publication import StagedFiles, file_sha256

JANUARY = datetime(2025, 2, 5, 6, 0, tzinfo=UTC)
FEBRUARY = datetime(2025, 3, 5, 6, 0, tzinfo=UTC)


def _warehouse(path: Path) -> Path:
    """A warehouse with two months of substitutes and alerts, and a P&L to export."""
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts")
        connection.execute(
            """
            create table marts.product_substitutes as
            select * from (values
                ('2025-01', 'S1', 'S2', 1, 0.50, 0.01),
                ('2025-01', 'S1', 'S3', 2, 0.25, 0.02),
                ('2025-01', 'S4', 'S5', 1, 1.00, 0.00),
                ('2025-02', 'S1', 'S2', 2, 0.40, 0.01),
                ('2025-02', 'S1', 'S3', 1, 0.60, 0.02),
                ('2025-02', 'S6', 'S7', 1, 0.10, 0.05)
            ) as t(as_of_period, sku, substitute_sku, substitute_rank,
                   profit_per_unit_difference, backorder_rate)
            """
        )
        connection.execute(
            """
            create table marts.return_reason_alerts as
            select * from (values
                ('2025-01', 'S1', 'DAMAGED', 12, 0.04, 0.01, 4.0, 'packaging')
            ) as t(as_of_period, sku, reason_code, returns, rate_per_unit_sold,
                   family_rate, ratio, likely_fix)
            """
        )
        connection.execute(
            """
            create table marts.fct_invoice_line_pnl as
            select 'invoice:I' || i || ':1' as row_id,
                   case when i % 2 = 0 then '2025-01' else '2025-02' end as period,
                   cast(i as decimal(18, 2)) as net_profit
            from range(10) as t(i)
            """
        )
        connection.execute(
            "create view marts.fct_cost_allocations as "
            "select row_id, period, 'picking' as pool, net_profit as amount "
            "from marts.fct_invoice_line_pnl"
        )
    return path


def _publish_substitutes(warehouse: Path, folder: Path, as_of_period: str, at: datetime):
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = read_feed(connection, PRODUCT_SUBSTITUTES, as_of_period)
    return publish_feed(PRODUCT_SUBSTITUTES, folder, rows, published_at=at, run_id="run-1")


def test_changes_list_added_changed_and_removed_records_by_their_whole_key(
    tmp_path: Path,
) -> None:
    warehouse = _warehouse(tmp_path / "w.duckdb")
    folder = tmp_path / "exports"
    first = _publish_substitutes(warehouse, folder, "2025-01", JANUARY)
    assert first.changes == {"added": 3, "changed": 0, "removed": 0}

    second = _publish_substitutes(warehouse, folder, "2025-02", FEBRUARY)

    changes = pq.read_table(folder / "product_substitutes.changes.parquet").to_pylist()
    by_key = {(row["sku"], row["substitute_sku"]): row for row in changes}
    assert {key: row["change_type"] for key, row in by_key.items()} == {
        ("S1", "S2"): "changed",  # rank 1 -> 2
        ("S1", "S3"): "changed",  # rank 2 -> 1
        ("S4", "S5"): "removed",
        ("S6", "S7"): "added",
    }
    assert by_key[("S1", "S2")]["changed_columns"] == "substitute_rank"
    assert by_key[("S1", "S2")]["substitute_rank"] == 2  # the current value
    assert by_key[("S4", "S5")]["substitute_rank"] == 1  # as last published
    assert {row["as_of_period"] for row in changes} == {"2025-02"}
    assert {row["previous_as_of_period"] for row in changes} == {"2025-01"}
    assert second.changes == {"added": 1, "changed": 2, "removed": 1}
    assert second.previous_as_of_period == "2025-01"

    previous = pq.read_table(folder / "product_substitutes.previous.parquet")
    assert set(previous["as_of_period"].to_pylist()) == {"2025-01"}
    with (folder / "product_substitutes.changes.csv").open() as source:
        assert len(list(csv.DictReader(source))) == 4
    jsonl = (folder / "product_substitutes.jsonl").read_text().splitlines()
    assert [json.loads(line)["schema_version"] for line in jsonl] == ["1.0"] * 3
    manifest = json.loads((folder / "product_substitutes.manifest.json").read_text())
    assert manifest["substitutes"] == 3 and manifest["key"] == ["sku", "substitute_sku"]
    assert manifest["files"]["product_substitutes.parquet"]["sha256"] == file_sha256(
        folder / "product_substitutes.parquet"
    )


def test_a_month_without_alerts_publishes_an_empty_feed_that_removes_the_old_alerts(
    tmp_path: Path,
) -> None:
    warehouse = _warehouse(tmp_path / "w.duckdb")
    folder = tmp_path / "exports"
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        january = read_feed(connection, RETURN_REASON_ALERTS, "2025-01")
        february = read_feed(connection, RETURN_REASON_ALERTS, "2025-02")
    publish_feed(RETURN_REASON_ALERTS, folder, january, published_at=JANUARY)

    publication = publish_feed(
        RETURN_REASON_ALERTS, folder, february, published_at=FEBRUARY, as_of_period="2025-02"
    )

    assert publication.records == 0 and publication.as_of_period == "2025-02"
    assert publication.changes == {"added": 0, "changed": 0, "removed": 1}
    assert pq.read_table(folder / "return_reason_alerts.parquet").num_rows == 0


def test_a_feed_that_must_not_be_empty_is_refused_empty(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "create table marts.product_rankings as select * from (values "
            "('2025-01', 'F', 'S1', 1, 10.0, 1.5, 0.5, 'sales')) as t(as_of_period, "
            "product_family, sku, rank_in_family, units, net_profit_per_unit, "
            "desert_net_profit_per_unit, ranked_by)"
        )
        rows = read_feed(connection, PRODUCT_RANKINGS, "2025-02")

    with pytest.raises(EmptyFeed):
        publish_feed(
            PRODUCT_RANKINGS, tmp_path, rows, published_at=FEBRUARY, as_of_period="2025-02"
        )


def _snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every file and link under `folder`, by relative path."""
    return {
        str(path.relative_to(folder)): (
            f"-> {path.readlink()}" if path.is_symlink() else path.read_bytes()
        )
        for path in sorted(folder.rglob("*"))
        if path.is_symlink() or path.is_file()
    }


def _stage_everything(warehouse: Path, exports: Path, as_of: str, at: datetime, run_id: str):
    staged = StagedFiles()
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        feeds = [
            (feed, read_feed(connection, feed, as_of))
            for feed in (PRODUCT_SUBSTITUTES, RETURN_REASON_ALERTS)
        ]
    try:
        for feed, rows in feeds:
            _, more = stage_feed(feed, exports, rows, published_at=at, as_of_period=as_of)
            staged.extend(more)
        _, more = stage_parquet_marts(warehouse, exports, run_id, {})
        staged.extend(more)
    except BaseException:
        staged.discard()
        raise
    return staged


def test_a_failure_half_way_through_a_publication_leaves_the_previous_one_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = _warehouse(tmp_path / "w.duckdb")
    exports = tmp_path / "exports"
    _stage_everything(warehouse, exports, "2025-01", JANUARY, "run-january").commit()
    before = _snapshot(exports)

    def disk_full(*_arguments) -> None:
        raise OSError("No space left on device")

    # The second feed fails after the first feed and none of the marts are staged.
    monkeypatch.setattr("pipelines.feeds._write_jsonl", _fail_on_call(2, disk_full))
    with pytest.raises(OSError, match="No space left"):
        _stage_everything(warehouse, exports, "2025-02", FEBRUARY, "run-february")
    assert _snapshot(exports) == before

    # The Parquet marts fail after both feeds are staged.
    monkeypatch.undo()
    monkeypatch.setattr("pipelines.parquet_marts._write_manifest", disk_full)
    with pytest.raises(OSError, match="No space left"):
        _stage_everything(warehouse, exports, "2025-02", FEBRUARY, "run-february")
    assert _snapshot(exports) == before
    assert len(list((exports / ".marts_versions").iterdir())) == 1


def _fail_on_call(failing_call: int, failure):
    from pipelines import feeds

    write = feeds._write_jsonl
    calls = []

    def write_or_fail(table, path) -> None:
        calls.append(path)
        # Two JSONL files a feed (the changes and the feed): the nth feed's first one fails.
        if len(calls) == 2 * (failing_call - 1) + 1:
            failure()
        write(table, path)

    return write_or_fail


def test_parquet_marts_switch_together_and_keep_one_version_behind(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path / "w.duckdb")
    exports = tmp_path / "exports"
    versions = []
    for run_id in ("run-aaaaaaaa", "run-bbbbbbbb", "run-cccccccc"):
        marts, staged = stage_parquet_marts(warehouse, exports, run_id, {})
        staged.commit()
        versions.append(marts.version)

    link = exports / "marts"
    assert link.is_symlink() and link.resolve() == versions[-1].resolve()
    assert sorted((exports / ".marts_versions").iterdir()) == sorted(versions[1:])
    manifest = json.loads((link / MANIFEST_NAME).read_text())
    assert manifest["run_id"] == "run-cccccccc"
    pnl = manifest["marts"]["fct_invoice_line_pnl"]
    assert (pnl["rows"], pnl["partitioned_by"]) == (10, "period")
    assert sorted(pnl["parts"]) == ["period=2025-01", "period=2025-02"]
    assert manifest["marts"]["fct_cost_allocations"]["rows"] == 10
    for name, entry in manifest["files"].items():
        assert file_sha256(link / name) == entry["sha256"]
    assert sorted(path.name for path in (link / "fct_invoice_line_pnl").iterdir()) == [
        "period=2025-01",
        "period=2025-02",
    ]
    with duckdb.connect() as connection:
        total = connection.execute(
            "select sum(net_profit), count(distinct period) from read_parquet(?, "
            "hive_partitioning = true)",
            [str(link / "fct_invoice_line_pnl" / "*" / "*.parquet")],
        ).fetchone()
        substitutes = connection.execute(
            "select count(*) from read_parquet(?)",
            [str(link / "product_substitutes" / "product_substitutes.parquet")],
        ).fetchone()
    assert total == (45, 2) and substitutes == (6,)


def _inodes(version: Path, part: str) -> list[int]:
    return [path.stat().st_ino for path in sorted((version / part).rglob("*.parquet"))]


def _parquet_sum(folder: Path, column: str) -> Decimal:
    with duckdb.connect() as connection:
        (total,) = connection.execute(
            f"select sum({column}) from read_parquet(?, hive_partitioning = true)",
            [str(folder / "*" / "*.parquet")],
        ).fetchone()
    return total


def test_a_publication_writes_the_parts_that_changed_and_links_the_others(
    tmp_path: Path,
) -> None:
    warehouse = _warehouse(tmp_path / "w.duckdb")
    exports, link = tmp_path / "exports", tmp_path / "exports" / "marts"
    first, staged = stage_parquet_marts(warehouse, exports, "run-aaaaaaaa", {})
    staged.commit()
    # Two small marts, and the P&L and its audit trail in two periods each.
    assert (first.parts, first.parts_linked) == (6, 0)

    # A month restated (the audit trail, a view over the P&L, follows it), and a column
    # added to a mart whose rows stay the same.
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "update marts.fct_invoice_line_pnl set net_profit = net_profit + 1 "
            "where period = '2025-02'"
        )
        connection.execute("alter table marts.return_reason_alerts add column note varchar")
    second, staged = stage_parquet_marts(warehouse, exports, "run-bbbbbbbb", {})
    staged.commit()

    assert (second.parts, second.parts_linked) == (6, 3)
    for part in (
        "fct_invoice_line_pnl/period=2025-01",
        "fct_cost_allocations/period=2025-01",
        "product_substitutes",
    ):
        assert _inodes(second.version, part) == _inodes(first.version, part), part
    for part in (
        "fct_invoice_line_pnl/period=2025-02",
        "fct_cost_allocations/period=2025-02",
        "return_reason_alerts",
    ):
        assert set(_inodes(second.version, part)).isdisjoint(_inodes(first.version, part)), part
    # What readers get is the working warehouse's: 0 + 1 + ... + 9, and 1 for each of the
    # five restated rows.
    assert _parquet_sum(link / "fct_invoice_line_pnl", "net_profit") == 50
    assert _parquet_sum(link / "fct_cost_allocations", "amount") == 50
    with duckdb.connect() as connection:
        columns = connection.execute(
            "select name from parquet_schema(?)",
            [str(link / "return_reason_alerts" / "return_reason_alerts.parquet")],
        ).fetchall()
    assert ("note",) in columns
    manifest = json.loads((link / MANIFEST_NAME).read_text())
    for name, entry in manifest["files"].items():
        assert file_sha256(link / name) == entry["sha256"], name

    # Nothing changed: every part is linked, and removing the first version (two behind)
    # leaves the files it shared with the latest readable.
    third, staged = stage_parquet_marts(warehouse, exports, "run-cccccccc", {})
    staged.commit()
    assert (third.parts, third.parts_linked) == (6, 6)
    assert not first.version.exists()
    assert _parquet_sum(link / "fct_invoice_line_pnl", "net_profit") == 50


def test_a_real_marts_folder_is_refused_rather_than_half_replaced(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path / "w.duckdb")
    (tmp_path / "exports" / "marts").mkdir(parents=True)

    with pytest.raises(MartsFolderIsNotALink):
        stage_parquet_marts(warehouse, tmp_path / "exports", "run-1", {})
    assert not (tmp_path / "exports" / ".marts_versions").exists()
