"""The feed files and their changes file (pipelines/policy_feed.py), on small tables."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.policy_feed import (
    FEED_NAME,
    FEED_SCHEMA,
    SCHEMA_VERSION,
    EmptyFeed,
    compute_changes,
    publish_policy_feed,
    to_feed_table,
)

JANUARY = datetime(2025, 2, 5, 6, 0, tzinfo=UTC)
FEBRUARY = datetime(2025, 3, 5, 6, 0, tzinfo=UTC)


def _flags(as_of_period: str, *customers: dict) -> pa.Table:
    """Feed rows: a kept customer with every policy off, changed by the given columns."""
    rows = []
    for customer in customers:
        row = {
            "as_of_period": as_of_period,
            "segment": "profit_peak",
            "quartile": 1,
            "no_discounts": False,
            "min_order_value": None,
            "charge_freight": False,
            "charge_expedite": False,
            "restocking_fee_pct": 0.0,
            "extra_order_cycle_days": 0,
            "is_growth_prospect": False,
            "is_lifetime_exempt": False,
            "exemption": None,
            "is_cross_sell_candidate": False,
            "is_value_destroyer": False,
            "is_service_abuser": False,
            "is_return_abuser": False,
            "recommended_action": "keep",
            "reasons": "profit peak quartile 1; net profit 10.00 over 12 months",
        }
        row.update(customer)
        rows.append(row)
    schema = pa.schema([field for field in FEED_SCHEMA if field.name != "schema_version"])
    return pa.Table.from_pylist(rows, schema=schema)


BOTTOM_QUARTILE = {
    "segment": "profit_desert",
    "quartile": 4,
    "no_discounts": True,
    "min_order_value": Decimal("185.10"),
    "charge_freight": True,
    "charge_expedite": True,
    "restocking_fee_pct": 0.15,
    "extra_order_cycle_days": 2,
    "is_value_destroyer": True,
    "recommended_action": "charge_for_service",
}


def _changes(folder: Path) -> dict[str, tuple[str, str]]:
    table = pq.read_table(folder / f"{FEED_NAME}.changes.parquet")
    return {
        row["customer_id"]: (row["change_type"], row["changed_columns"])
        for row in table.to_pylist()
    }


def test_first_publication_writes_parquet_csv_and_json_lines_with_the_schema_version(
    tmp_path: Path,
) -> None:
    flags = _flags("2025-01", {"customer_id": "C1"}, {"customer_id": "C2", **BOTTOM_QUARTILE})

    publication = publish_policy_feed(tmp_path, flags, published_at=JANUARY, run_id="run-1")

    assert publication.as_of_period == "2025-01" and publication.records == 2
    feed = pq.read_table(tmp_path / f"{FEED_NAME}.parquet")
    assert feed.schema == FEED_SCHEMA
    assert set(feed["schema_version"].to_pylist()) == {SCHEMA_VERSION}
    with (tmp_path / f"{FEED_NAME}.csv").open() as source:
        csv_rows = list(csv.DictReader(source))
    assert [row["customer_id"] for row in csv_rows] == ["C1", "C2"]
    assert csv_rows[1]["min_order_value"] == "185.10"
    assert csv_rows[1]["no_discounts"] == "true"
    assert csv_rows[0]["min_order_value"] == ""  # empty field = null: no minimum order
    json_rows = [json.loads(line) for line in (tmp_path / f"{FEED_NAME}.jsonl").open()]
    assert json_rows[1]["min_order_value"] == 185.1
    assert json_rows[1]["schema_version"] == SCHEMA_VERSION
    assert json_rows[1]["as_of_period"] == "2025-01"
    manifest = json.loads((tmp_path / f"{FEED_NAME}.manifest.json").read_text())
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["as_of_period"] == "2025-01"
    assert manifest["run_id"] == "run-1"
    assert manifest["previous"] == {"as_of_period": None, "published_at": None}
    assert set(manifest["files"]) == {
        f"{FEED_NAME}{suffix}"
        for suffix in (
            ".parquet",
            ".csv",
            ".jsonl",
            ".changes.parquet",
            ".changes.csv",
            ".changes.jsonl",
        )
    }


def test_first_publication_lists_every_customer_as_added(tmp_path: Path) -> None:
    flags = _flags("2025-01", {"customer_id": "C1"}, {"customer_id": "C2"})

    publication = publish_policy_feed(tmp_path, flags, published_at=JANUARY)

    assert publication.changes == {"added": 2, "changed": 0, "removed": 0}
    assert {change for change, _ in _changes(tmp_path).values()} == {"added"}
    assert not (tmp_path / f"{FEED_NAME}.previous.parquet").exists()


def test_changes_list_only_customers_whose_policies_changed_since_the_previous_publication(
    tmp_path: Path,
) -> None:
    publish_policy_feed(
        tmp_path,
        _flags(
            "2025-01",
            {"customer_id": "C_SAME"},
            {"customer_id": "C_NOW_BOTTOM"},
            {"customer_id": "C_GONE"},
            {"customer_id": "C_NEW_REASONS"},
        ),
        published_at=JANUARY,
    )

    publication = publish_policy_feed(
        tmp_path,
        _flags(
            "2025-02",
            {"customer_id": "C_SAME"},  # unchanged: not listed
            {"customer_id": "C_NOW_BOTTOM", **BOTTOM_QUARTILE},  # policies changed
            {"customer_id": "C_NEW"},  # a new customer in scope
            {
                "customer_id": "C_NEW_REASONS",
                "reasons": "other numbers",
                "quartile": 2,
            },  # no policy
        ),
        published_at=FEBRUARY,
    )

    changes = _changes(tmp_path)
    assert set(changes) == {"C_NOW_BOTTOM", "C_NEW", "C_GONE"}
    assert changes["C_NEW"][0] == "added"
    assert changes["C_GONE"][0] == "removed"
    change_type, columns = changes["C_NOW_BOTTOM"]
    assert change_type == "changed"
    assert set(columns.split(",")) == {
        "no_discounts",
        "min_order_value",
        "charge_freight",
        "charge_expedite",
        "restocking_fee_pct",
        "extra_order_cycle_days",
        "is_value_destroyer",
        "recommended_action",
    }
    assert publication.changes == {"added": 1, "changed": 1, "removed": 1}
    assert publication.previous_as_of_period == "2025-01"
    assert publication.previous_published_at == JANUARY.isoformat(timespec="seconds")


def test_the_previous_publication_is_kept_beside_the_new_one(tmp_path: Path) -> None:
    publish_policy_feed(tmp_path, _flags("2025-01", {"customer_id": "C1"}), published_at=JANUARY)
    publish_policy_feed(
        tmp_path,
        _flags("2025-02", {"customer_id": "C1"}, {"customer_id": "C2"}),
        published_at=FEBRUARY,
    )

    previous = pq.read_table(tmp_path / f"{FEED_NAME}.previous.parquet")
    current = pq.read_table(tmp_path / f"{FEED_NAME}.parquet")
    assert previous["as_of_period"].to_pylist() == ["2025-01"]
    assert current["as_of_period"].to_pylist() == ["2025-02", "2025-02"]


def test_a_removed_customer_carries_its_last_published_policies(tmp_path: Path) -> None:
    previous = to_feed_table(_flags("2025-01", {"customer_id": "C_GONE", **BOTTOM_QUARTILE}))
    current = to_feed_table(_flags("2025-02", {"customer_id": "C_STAYS"}))

    changes = compute_changes(previous, current).to_pylist()

    gone = next(row for row in changes if row["customer_id"] == "C_GONE")
    assert gone["change_type"] == "removed"
    assert gone["no_discounts"] is True and gone["min_order_value"] == Decimal("185.10")
    assert gone["as_of_period"] == "2025-02" and gone["previous_as_of_period"] == "2025-01"


def test_republishing_the_same_flags_lists_no_changes(tmp_path: Path) -> None:
    flags = _flags("2025-01", {"customer_id": "C1", **BOTTOM_QUARTILE})
    publish_policy_feed(tmp_path, flags, published_at=JANUARY)

    publication = publish_policy_feed(tmp_path, flags, published_at=FEBRUARY)

    assert publication.changes == {"added": 0, "changed": 0, "removed": 0}
    assert pq.read_table(tmp_path / f"{FEED_NAME}.changes.parquet").num_rows == 0
    with (tmp_path / f"{FEED_NAME}.changes.csv").open() as source:
        assert next(csv.reader(source))[0] == "change_type"  # a header, even without rows


def test_an_empty_feed_is_refused_and_the_last_publication_stays(tmp_path: Path) -> None:
    publish_policy_feed(tmp_path, _flags("2025-01", {"customer_id": "C1"}), published_at=JANUARY)
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}

    with pytest.raises(EmptyFeed):
        publish_policy_feed(tmp_path, _flags("2025-02"), published_at=FEBRUARY)

    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


def test_a_failed_write_leaves_neither_temporary_files_nor_half_a_publication(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_policy_feed(tmp_path, _flags("2025-01", {"customer_id": "C1"}), published_at=JANUARY)
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}

    def disk_full(*_arguments) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr("pipelines.feeds._write_jsonl", disk_full)
    with pytest.raises(OSError, match="No space left"):
        publish_policy_feed(
            tmp_path, _flags("2025-02", {"customer_id": "C2"}), published_at=FEBRUARY
        )

    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


def test_a_feed_holds_one_as_of_period(tmp_path: Path) -> None:
    flags = pa.concat_tables(
        [_flags("2025-01", {"customer_id": "C1"}), _flags("2025-02", {"customer_id": "C2"})]
    )

    with pytest.raises(ValueError, match="one as-of period"):
        publish_policy_feed(tmp_path, flags, published_at=JANUARY)
