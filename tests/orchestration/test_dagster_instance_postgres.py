"""The Dagster instances `oasis` ships: dagster.yaml (SQLite in $OASIS_HOME/dagster) and
dagster.postgres.yaml, whose runs, event logs and schedules land in a real PostgreSQL 15."""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg2
import pytest
import yaml
from dagster import AssetKey, DagsterEventType, DagsterInstance, DagsterRunStatus, materialize

from orchestration import cli
from orchestration.ingest import erp_extract_assets
from orchestration.resources import WAREHOUSE_RUN_TAG, LandingFolderResource, WarehouseResource
from pipelines.demo.erp import write_demo_erp
from pipelines.settings import REPO_ROOT, SettingsError, resolve_settings
from tests.postgres_server import PostgresServer, postgres_database

CUSTOMERS = AssetKey(["erp", "customers"])
ONE_RUN_PER_WAREHOUSE = {
    "key": WAREHOUSE_RUN_TAG,
    "value": {"applyLimitPerUniqueValue": True},
    "limit": 1,
}


def _instance_settings(file_name: str) -> dict:
    return yaml.safe_load((REPO_ROOT / file_name).read_text())


def test_the_shipped_instance_keeps_sqlite_storage_with_retries_and_one_run_per_warehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    shutil.copyfile(REPO_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        assert type(instance.event_log_storage).__name__ == "BatchedSqliteEventLogStorage"
        assert instance.event_log_storage._base_dir == str(tmp_path / "history" / "runs")
        assert type(instance.schedule_storage).__name__ == "SqliteScheduleStorage"
        assert instance.run_retries_enabled
        assert instance.run_retries_max_retries == 1
        # A failed data check is not retried: the same data fails the same way.
        assert not instance.run_retries_retry_on_asset_or_op_failure
        run_queue = instance.get_concurrency_config().run_queue_config
        assert run_queue is not None
        assert run_queue.tag_concurrency_limits == [ONE_RUN_PER_WAREHOUSE]
        assert not instance.telemetry_enabled


def test_the_postgres_instance_differs_from_the_default_only_in_its_storage() -> None:
    sqlite, postgres = (
        _instance_settings("dagster.yaml"),
        _instance_settings("dagster.postgres.yaml"),
    )
    assert "storage" not in sqlite
    assert sqlite.pop("event_log_storage")["class"] == "BatchedSqliteEventLogStorage"
    assert set(postgres.pop("storage")) == {"postgres"}
    assert postgres == sqlite


def test_the_instance_setting_defaults_to_sqlite_and_names_its_file() -> None:
    assert resolve_settings({}).dagster_instance_file == REPO_ROOT / "dagster.yaml"
    chosen = resolve_settings({"OASIS_DAGSTER_INSTANCE": "Postgres"})
    assert chosen.dagster_instance == "postgres"
    assert chosen.dagster_instance_file == REPO_ROOT / "dagster.postgres.yaml"


def test_an_unknown_instance_setting_is_refused_naming_the_variable_and_the_choices() -> None:
    with pytest.raises(SettingsError, match="OASIS_DAGSTER_INSTANCE is 'mysql'.*sqlite, postgres"):
        resolve_settings({"OASIS_DAGSTER_INSTANCE": "mysql"})


def test_oasis_refuses_an_unknown_instance_setting_before_touching_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OASIS_HOME", str(tmp_path))
    monkeypatch.setenv("OASIS_DAGSTER_INSTANCE", "mysql")
    with pytest.raises(SystemExit, match="oasis: OASIS_DAGSTER_INSTANCE is 'mysql'"):
        cli._prepare(
            argparse.Namespace(source=None, warehouse=None, mapping=None, source_files=None)
        )
    assert list(tmp_path.iterdir()) == []


def test_oasis_copies_the_chosen_instance_file_into_the_instance_folder(tmp_path: Path) -> None:
    environ = {
        "OASIS_HOME": str(tmp_path),
        "OASIS_DAGSTER_INSTANCE": "postgres",
        "OASIS_DAGSTER_PG_HOST": "db.internal",
        "OASIS_DAGSTER_PG_PORT": "5432",
        "OASIS_DAGSTER_PG_USER": "dagster",
        "OASIS_DAGSTER_PG_PASSWORD": "",
        "OASIS_DAGSTER_PG_DB": "dagster",
    }
    settings = resolve_settings(environ)
    cli._seed_dagster_instance(settings, environ)
    copied = tmp_path / "dagster" / "dagster.yaml"
    assert copied.read_text() == (REPO_ROOT / "dagster.postgres.yaml").read_text()


def test_oasis_names_the_missing_postgres_variables(tmp_path: Path) -> None:
    environ = {"OASIS_HOME": str(tmp_path), "OASIS_DAGSTER_PG_HOST": "db.internal"}
    settings = resolve_settings({**environ, "OASIS_DAGSTER_INSTANCE": "postgres"})
    with pytest.raises(SystemExit, match="needs OASIS_DAGSTER_PG_PORT, OASIS_DAGSTER_PG_USER, "):
        cli._seed_dagster_instance(settings, environ)


@pytest.fixture(scope="module")
def dagster_database() -> Iterator[PostgresServer]:
    """A PostgreSQL 15 server with an empty `dagster` database."""
    with postgres_database("dagster") as server:
        yield server


@pytest.mark.postgres
def test_a_materialization_is_stored_in_postgres(
    dagster_database: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given dagster.postgres.yaml as the instance, pointed at the database by the environment
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO_ROOT / "dagster.postgres.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("OASIS_DAGSTER_PG_HOST", dagster_database.host)
    monkeypatch.setenv("OASIS_DAGSTER_PG_PORT", str(dagster_database.port))
    monkeypatch.setenv("OASIS_DAGSTER_PG_USER", dagster_database.user)
    monkeypatch.setenv("OASIS_DAGSTER_PG_PASSWORD", "")  # the test server trusts loopback
    monkeypatch.setenv("OASIS_DAGSTER_PG_DB", "dagster")
    landing = write_demo_erp(tmp_path / "landing", customers=50, months=2).out_dir
    warehouse = tmp_path / "warehouse.duckdb"
    [customers] = [asset for asset in erp_extract_assets if asset.key == CUSTOMERS]

    # When the customers extract is loaded through that instance
    with DagsterInstance.get() as instance:
        result = materialize(
            [customers],
            instance=instance,
            resources={
                "warehouse": WarehouseResource(path=str(warehouse)),
                "landing": LandingFolderResource(path=str(landing)),
            },
            tags={WAREHOUSE_RUN_TAG: str(warehouse)},
        )

        # Then the instance has the run as a success, and every storage is PostgreSQL's
        assert result.success
        run = instance.get_run_by_id(result.run_id)
        assert run is not None and run.status == DagsterRunStatus.SUCCESS
        assert instance.get_latest_materialization_event(CUSTOMERS).run_id == result.run_id
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert instance.all_instigator_state() == []  # a query against PostgreSQL

    # And PostgreSQL itself holds the run, its tag and its events
    with psycopg2.connect(dagster_database.dsn("dagster")) as connection:
        cursor = connection.cursor()
        cursor.execute("select status from runs where run_id = %s", [result.run_id])
        assert cursor.fetchall() == [("SUCCESS",)]
        cursor.execute(
            "select value from run_tags where run_id = %s and key = %s",
            [result.run_id, WAREHOUSE_RUN_TAG],
        )
        assert cursor.fetchall() == [(str(warehouse),)]
        cursor.execute(
            "select distinct dagster_event_type from event_logs where run_id = %s",
            [result.run_id],
        )
        events = {event_type for (event_type,) in cursor.fetchall()}
        # Stored under their legacy names (PIPELINE_START, ...): compare with the enum's values.
        expected = [
            DagsterEventType.RUN_START,
            DagsterEventType.ASSET_MATERIALIZATION,
            DagsterEventType.RUN_SUCCESS,
        ]
        assert {event_type.value for event_type in expected} <= events
        cursor.execute(
            "select table_name from information_schema.tables where table_schema = 'public' "
            "and table_name in ('jobs', 'job_ticks', 'instigators')"
        )
        assert {name for (name,) in cursor.fetchall()} == {"jobs", "job_ticks", "instigators"}

    # And the warehouse was loaded
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        assert connection.execute("select count(*) from raw.customers").fetchone()[0] >= 50
