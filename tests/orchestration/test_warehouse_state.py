"""State belongs to its warehouse: a second warehouse run from the same OASIS_HOME keeps
its own feed, changes, reports, landing index and Dagster history."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.demo.erp import write_demo_erp
from pipelines.settings import resolve_settings
from tests.conftest import run_oasis

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


def test_two_warehouses_from_two_sources_never_mention_each_other(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first_demo = write_demo_erp(tmp_path / "erp_a", customers=60, months=3, seed=1)
    second_demo = write_demo_erp(tmp_path / "erp_b", customers=90, months=3, seed=2)
    first = run_oasis(first_demo, home)
    second = run_oasis(second_demo, home, warehouse=tmp_path / "wh" / "w.duckdb")

    for built, source in ((first, first_demo.out_dir), (second, second_demo.out_dir)):
        folder = built.path.parent
        feed = pq.read_table(folder / "exports" / f"{FEED}.parquet")
        changes = pq.read_table(folder / "exports" / f"{FEED}.changes.parquet")
        customers = set(
            built.scalar("select list(customer_id) from raw.customers")  # this source's own
        )
        assert set(feed.column("customer_id").to_pylist()) <= customers
        # A first publication: every customer is new, none changed or removed.
        assert set(changes.column("change_type").to_pylist()) == {"added"}
        assert changes.num_rows == feed.num_rows
        # The manifest says where the feed came from: warehouse, run and input files.
        manifest = json.loads((folder / "exports" / f"{FEED}.manifest.json").read_text())
        assert manifest["warehouse"] == str(built.path)
        assert manifest["run_id"]
        inputs = {Path(entry["path"]) for entry in manifest["inputs"]}
        assert inputs == {path for path in source.rglob("*.parquet")}
        assert all(len(entry["sha256"]) == 64 for entry in manifest["inputs"])
        assert list((folder / "reports").glob("*/run_summary.md"))
        # The index names the warehouse of each run (several may share OASIS_REPORTS).
        index = (folder / "reports" / "index.html").read_text()
        assert f'<td title="{built.path}">{built.path.name}</td>' in index
        assert (folder / "dagster" / "dagster.yaml").exists()
    assert not (home / "wh").exists()
