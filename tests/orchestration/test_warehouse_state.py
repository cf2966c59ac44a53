"""State belongs to its warehouse: a second warehouse run from the same OASIS_HOME keeps
its own feed, changes, reports, landing index and Dagster history, and changes nothing of
the first's."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.demo.erp import write_demo_erp
from pipelines.settings import resolve_settings
from tests.conftest import BuiltWarehouse, copy_of, folder_digest, run_oasis

pytestmark = pytest.mark.e2e

FEED = "customer_policy_flags"


def test_state_defaults_to_the_warehouse_folder_unless_set() -> None:
    settings = resolve_settings({"OASIS_HOME": "/srv/oasis", "OASIS_WAREHOUSE": "/wh/w.duckdb"})
    assert settings.reports == Path("/wh/reports")
    assert settings.exports == Path("/wh/exports")
    assert settings.landing_index == Path("/wh/landing_index.duckdb")
    assert settings.dagster_home == Path("/wh/dagster")
    default = resolve_settings({"OASIS_HOME": "/srv/oasis"})
    assert default.reports == Path("/srv/oasis/reports")
    chosen = resolve_settings({"OASIS_WAREHOUSE": "/wh/w.duckdb", "OASIS_EXPORTS": "/feeds"})
    assert chosen.exports == Path("/feeds")


def test_a_second_warehouse_run_from_the_same_home_keeps_its_own_state_and_leaves_the_first_alone(
    small_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    # Given a home whose warehouse a run built (the session's small one)
    first = copy_of(small_warehouse, tmp_path / "home")
    first_state = folder_digest(first.home)
    # When a second warehouse, elsewhere, runs from the same OASIS_HOME on another source
    second_demo = write_demo_erp(tmp_path / "erp_b", customers=50, months=2, seed=2)
    second = run_oasis(second_demo, first.home, warehouse=tmp_path / "wh" / "w.duckdb")

    # Then nothing of the first's changed: no report, feed, index or history of the second
    assert folder_digest(first.home) == first_state
    # and the second keeps its feed, changes, reports, landing index and Dagster history
    # beside its warehouse, naming its own source and no other
    folder = second.path.parent
    feed = pq.read_table(folder / "exports" / f"{FEED}.parquet")
    changes = pq.read_table(folder / "exports" / f"{FEED}.changes.parquet")
    customers = set(second.scalar("select list(customer_id) from raw.customers"))
    assert set(feed.column("customer_id").to_pylist()) <= customers
    # A first publication: every customer is new, none changed or removed.
    assert set(changes.column("change_type").to_pylist()) == {"added"}
    assert changes.num_rows == feed.num_rows
    # The manifest says where the feed came from: warehouse, run and input files.
    manifest = json.loads((folder / "exports" / f"{FEED}.manifest.json").read_text())
    assert manifest["warehouse"] == str(second.path)
    assert manifest["run_id"]
    inputs = {Path(entry["path"]) for entry in manifest["inputs"]}
    assert inputs == set(second_demo.out_dir.rglob("*.parquet"))
    assert all(len(entry["sha256"]) == 64 for entry in manifest["inputs"])
    assert list((folder / "reports").glob("*/run_summary.md"))
    # The index names the warehouse of each run (several may share OASIS_REPORTS).
    index = (folder / "reports" / "index.html").read_text()
    assert f'<td title="{second.path}">{second.path.name}</td>' in index
    assert str(first.path) not in index
    assert (folder / "landing_index.duckdb").exists()
    assert (folder / "dagster" / "dagster.yaml").exists()
