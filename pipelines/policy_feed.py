"""The customer policy feed: the latest as-of period of marts.customer_policy_flags as files
that pricing, commerce and sales systems read, and the changes since the previous publication
so that a system can apply deltas (docs/policy_feed.md describes the files for those teams).

Plain Python, no Dagster: `read_policy_flags` reads the mart from a DuckDB connection,
`publish_policy_feed` writes the files. Every file is written to a temporary name in the same
folder and then renamed over the old one (`os.replace`), so a reader never sees half a file;
the manifest goes last and says which publication the folder holds. `stage_policy_feed`
stops before the renames, so that a run can publish the feed and the published warehouse
together (pipelines/publication.py).

    customer_policy_flags.parquet|.csv|.jsonl           the latest as-of period, every customer
    customer_policy_flags.changes.parquet|.csv|.jsonl   customers added, changed or removed
    customer_policy_flags.previous.parquet              the publication the changes compare with
    customer_policy_flags.manifest.json                 schema version, as-of period, counts
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.csv_files import write_csv
from pipelines.publication import StagedFiles, file_sha256

# Bump the major number for a breaking change (a column removed, renamed or retyped, a
# meaning changed); the minor number for a column added. Consumers check the major number.
SCHEMA_VERSION = "1.0"
FEED_NAME = "customer_policy_flags"

# The feed's columns, in order: MARTS.md's customer_policy_flags plus `exemption`, with the
# schema version and the as-of period on every record.
FEED_SCHEMA = pa.schema(
    [
        ("schema_version", pa.string()),
        ("as_of_period", pa.string()),
        ("customer_id", pa.string()),
        ("segment", pa.string()),
        ("quartile", pa.int32()),
        ("no_discounts", pa.bool_()),
        ("min_order_value", pa.decimal128(18, 2)),
        ("charge_freight", pa.bool_()),
        ("charge_expedite", pa.bool_()),
        ("restocking_fee_pct", pa.float64()),
        ("extra_order_cycle_days", pa.int32()),
        ("is_growth_prospect", pa.bool_()),
        ("is_lifetime_exempt", pa.bool_()),
        ("exemption", pa.string()),
        ("is_cross_sell_candidate", pa.bool_()),
        ("is_value_destroyer", pa.bool_()),
        ("is_service_abuser", pa.bool_()),
        ("is_return_abuser", pa.bool_()),
        ("recommended_action", pa.string()),
        ("reasons", pa.string()),
    ]
)

# What a downstream system acts on. Segment, quartile and the reasons' numbers move every
# month without a policy changing, so they do not make a customer "changed".
POLICY_COLUMNS = (
    "no_discounts",
    "min_order_value",
    "charge_freight",
    "charge_expedite",
    "restocking_fee_pct",
    "extra_order_cycle_days",
    "is_growth_prospect",
    "is_lifetime_exempt",
    "exemption",
    "is_cross_sell_candidate",
    "is_value_destroyer",
    "is_service_abuser",
    "is_return_abuser",
    "recommended_action",
)

CHANGE_TYPES = ("added", "changed", "removed")
CHANGES_SCHEMA = pa.schema(
    [
        ("change_type", pa.string()),
        # the policy columns whose values differ, comma-separated (every one for added/removed)
        ("changed_columns", pa.string()),
        ("previous_as_of_period", pa.string()),
        *FEED_SCHEMA,
    ]
)

_FEED_QUERY = f"""
    select
        $schema_version as schema_version,
        as_of_period,
        customer_id,
        segment,
        quartile,
        no_discounts,
        cast(min_order_value as decimal(18, 2)) as min_order_value,
        charge_freight,
        charge_expedite,
        restocking_fee_pct,
        extra_order_cycle_days,
        is_growth_prospect,
        is_lifetime_exempt,
        exemption,
        is_cross_sell_candidate,
        is_value_destroyer,
        is_service_abuser,
        is_return_abuser,
        recommended_action,
        reasons
    from marts.{FEED_NAME}
    where as_of_period = coalesce($as_of_period, (select max(as_of_period) from marts.{FEED_NAME}))
    order by customer_id
"""


class EmptyFeed(ValueError):
    """The flags hold no customer: publishing would mark every customer as removed."""


@dataclass(frozen=True)
class FeedPublication:
    folder: Path
    as_of_period: str
    published_at: str
    customers: int
    changes: dict[str, int]  # change_type -> customers
    previous_as_of_period: str | None
    previous_published_at: str | None
    files: dict[str, Path]  # role -> file


def read_policy_flags(
    connection: duckdb.DuckDBPyConnection, as_of_period: str | None = None
) -> pa.Table:
    """The flags of the latest as-of period (or of `as_of_period`), in the feed's columns."""
    flags = connection.sql(
        _FEED_QUERY, params={"as_of_period": as_of_period, "schema_version": SCHEMA_VERSION}
    )
    return to_feed_table(flags.to_arrow_table())


def to_feed_table(table: pa.Table) -> pa.Table:
    """`table` in the feed's column order and types; extra columns are dropped."""
    if "schema_version" not in table.column_names:
        table = table.append_column(
            "schema_version", pa.array([SCHEMA_VERSION] * table.num_rows, pa.string())
        )
    missing = [name for name in FEED_SCHEMA.names if name not in table.column_names]
    if missing:
        raise ValueError(f"the policy flags lack the feed columns {', '.join(missing)}")
    return table.select(FEED_SCHEMA.names).cast(FEED_SCHEMA)


def compute_changes(previous: pa.Table | None, current: pa.Table) -> pa.Table:
    """Customers whose policies differ between two publications, one row each.

    added: in `current` only; removed: in `previous` only (the row as last published, so a
    system knows what to undo); changed: in both with a different value in a POLICY_COLUMNS
    column. The rows carry the current values (the previous ones for removed customers)
    and the current as-of period, with `previous_as_of_period` beside it.
    """
    current_rows = {row["customer_id"]: row for row in current.to_pylist()}
    previous_rows = {} if previous is None else _rows_by_customer(previous)
    previous_as_of = _single_as_of_period(previous) if previous is not None else None
    current_as_of = _single_as_of_period(current)

    changes = []
    for customer_id in sorted(current_rows.keys() | previous_rows.keys()):
        now, before = current_rows.get(customer_id), previous_rows.get(customer_id)
        if before is None:
            change_type, row, columns = "added", now, list(POLICY_COLUMNS)
        elif now is None:
            change_type, row, columns = "removed", before, list(POLICY_COLUMNS)
        else:
            columns = [c for c in POLICY_COLUMNS if not _same(before.get(c), now.get(c))]
            if not columns:
                continue
            change_type, row = "changed", now
        changes.append(
            {
                **row,
                "as_of_period": current_as_of,
                "schema_version": SCHEMA_VERSION,
                "change_type": change_type,
                "changed_columns": ",".join(columns),
                "previous_as_of_period": previous_as_of,
            }
        )
    return pa.Table.from_pylist(changes, schema=CHANGES_SCHEMA)


def publish_policy_feed(
    folder: Path,
    flags: pa.Table,
    *,
    published_at: datetime,
    run_id: str | None = None,
) -> FeedPublication:
    """Writes the feed of `flags` (one as-of period) and its changes since the publication
    already in `folder`, which becomes the previous one. Refuses an empty feed."""
    publication, staged = stage_policy_feed(folder, flags, published_at=published_at, run_id=run_id)
    staged.commit()
    return publication


def stage_policy_feed(
    folder: Path,
    flags: pa.Table,
    *,
    published_at: datetime,
    run_id: str | None = None,
    warehouse: Path | None = None,
    inputs: Callable[[list[dict]], list[dict]] | None = None,
) -> tuple[FeedPublication, StagedFiles]:
    """What `publish_policy_feed` writes, written to temporary names: committing the staged
    files publishes it (together with other outputs of the run: pipelines/publication.py).
    The manifest names the warehouse and the run it came from, and `inputs(known)` the
    extract files read with their checksums (given the previous manifest's)."""
    current = to_feed_table(flags)
    if current.num_rows == 0:
        raise EmptyFeed("the policy flags hold no customer: nothing published")
    as_of_period = _single_as_of_period(current)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = _feed_paths(folder)

    previous = None
    previous_manifest: dict = {}
    if paths["parquet"].exists():
        previous = pq.read_table(paths["parquet"])
        if paths["manifest"].exists():
            previous_manifest = json.loads(paths["manifest"].read_text())
    changes = compute_changes(previous, current)

    stamp = published_at.isoformat(timespec="seconds")
    # Temporary files first, renamed in an order that never leaves the folder
    # inconsistent for a reader that starts from the manifest: the previous publication,
    # the changes, the feed, and the manifest last.
    staged = StagedFiles()

    def stage(role: str, content, write: Callable[[object, Path], None]) -> None:
        temporary = paths[role].with_name(f".{paths[role].name}.{os.getpid()}.tmp")
        write(content, temporary)
        staged.add(temporary, paths[role])

    try:
        if previous is not None:
            stage("previous", paths["parquet"], shutil.copyfile)
        for prefix, table in (("changes_", changes), ("", current)):
            stage(f"{prefix}parquet", table, _write_parquet)
            stage(f"{prefix}csv", table, write_csv)
            stage(f"{prefix}jsonl", table, _write_jsonl)

        change_counts = {
            change_type: sum(
                1 for value in changes["change_type"].to_pylist() if value == change_type
            )
            for change_type in CHANGE_TYPES
        }
        manifest = {
            "feed": FEED_NAME,
            "schema_version": SCHEMA_VERSION,
            "as_of_period": as_of_period,
            "published_at": stamp,
            "run_id": run_id,
            "warehouse": str(warehouse) if warehouse else None,
            "inputs": inputs(previous_manifest.get("inputs", [])) if inputs else [],
            "customers": current.num_rows,
            "changes": change_counts,
            "previous": {
                "as_of_period": previous_manifest.get("as_of_period")
                or (_single_as_of_period(previous) if previous is not None else None),
                "published_at": previous_manifest.get("published_at"),
            },
            "files": {
                path.name: {"sha256": file_sha256(temporary)}
                for temporary, path in staged.renames
                if path != paths["previous"]
            },
        }
        stage("manifest", manifest, _write_json)
    except BaseException:
        staged.discard()
        raise
    if previous is None:
        # A first publication: a previous file left from an older folder would mislead.
        staged.removals.append(paths["previous"])

    finals = {path for _, path in staged.renames}
    publication = FeedPublication(
        folder=folder,
        as_of_period=as_of_period,
        published_at=stamp,
        customers=current.num_rows,
        changes=change_counts,
        previous_as_of_period=manifest["previous"]["as_of_period"],
        previous_published_at=manifest["previous"]["published_at"],
        files={role: path for role, path in paths.items() if path in finals},
    )
    return publication, staged


def _feed_paths(folder: Path) -> dict[str, Path]:
    return {
        "parquet": folder / f"{FEED_NAME}.parquet",
        "csv": folder / f"{FEED_NAME}.csv",
        "jsonl": folder / f"{FEED_NAME}.jsonl",
        "changes_parquet": folder / f"{FEED_NAME}.changes.parquet",
        "changes_csv": folder / f"{FEED_NAME}.changes.csv",
        "changes_jsonl": folder / f"{FEED_NAME}.changes.jsonl",
        "previous": folder / f"{FEED_NAME}.previous.parquet",
        "manifest": folder / f"{FEED_NAME}.manifest.json",
    }


def _write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path)


def _write_json(document: dict, path: Path) -> None:
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _write_jsonl(table: pa.Table, path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in table.to_pylist():
            out.write(json.dumps(row, default=_json_value, ensure_ascii=False) + "\n")


def _json_value(value):
    if isinstance(value, Decimal):
        # Amounts are rounded to the cent: a JSON number with up to 2 decimals is exact.
        return float(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _rows_by_customer(table: pa.Table) -> dict[str, dict]:
    # A previous publication of an older schema may lack columns: they read as null.
    rows = table.to_pylist()
    return {row["customer_id"]: row for row in rows}


def _single_as_of_period(table: pa.Table) -> str:
    periods = set(table["as_of_period"].to_pylist())
    if len(periods) != 1:
        raise ValueError(f"a feed holds one as-of period, not {sorted(map(str, periods))}")
    return periods.pop()


def _same(before, now) -> bool:
    if before is None or now is None:
        return before is None and now is None
    if isinstance(before, float) or isinstance(now, float):
        return abs(float(before) - float(now)) < 1e-9
    return before == now
