"""Fixtures for the auditors' suites: the clean warehouse of the session, audited once,
and copies of it to tamper with (the shared warehouse itself is never changed), whose
reconciliations (dbt_project/models/audit) are rebuilt from the tampered tables."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from expectations.runner import AuditResult, audit_warehouse
from pipelines.settings import REPO_ROOT
from tests.conftest import BuiltWarehouse

DBT_PROJECT = REPO_ROOT / "dbt_project"
# dbt-duckdb names the database after the file: the compiled audit models read
# "tampered"."marts"..., so every tampered copy has this name.
TAMPERED_NAME = "tampered.duckdb"


@pytest.fixture(scope="session")
def clean_audit(built_warehouse: BuiltWarehouse) -> AuditResult:
    return audit_warehouse(built_warehouse.path)


@pytest.fixture(scope="session")
def audit_models_sql(
    built_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """model name -> the SQL dbt compiles for a first build of each audit model: one dbt
    invocation per session, instead of one `dbt build` per tampered copy."""
    folder = tmp_path_factory.mktemp("audit_models")
    copy = folder / TAMPERED_NAME
    shutil.copyfile(built_warehouse.path, copy)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OASIS_WAREHOUSE", str(copy))
        result = dbtRunner().invoke(
            [
                "compile",
                "--full-refresh",
                "--select",
                "path:models/audit",
                "--project-dir",
                str(DBT_PROJECT),
                "--profiles-dir",
                str(DBT_PROJECT),
                "--target-path",
                str(folder / "target"),
            ]
        )
    assert result.success, result.exception
    compiled = {
        outcome.node.name: outcome.node.compiled_code
        for outcome in result.result
        if outcome.node.resource_type == "model"  # not the models' tests, compiled too
    }
    assert len(compiled) == 3, sorted(compiled)
    return compiled


@pytest.fixture
def tampered(
    built_warehouse: BuiltWarehouse, audit_models_sql: dict[str, str], tmp_path: Path
) -> Callable[..., Path]:
    """tampered(sql, ...) -> a copy of the clean warehouse with the statements applied and
    its audit models rebuilt, as the dbt build of a run would after such a change;
    `rebuild_audit=False` leaves them as the clean run built them (a table they read is
    gone, say)."""

    def tamper(*statements: str, rebuild_audit: bool = True) -> Path:
        copy = tmp_path / TAMPERED_NAME
        shutil.copyfile(built_warehouse.path, copy)
        with duckdb.connect(str(copy)) as connection:
            for statement in statements:
                connection.execute(statement)
            for name, sql in audit_models_sql.items() if rebuild_audit else ():
                connection.execute(f"create or replace table audit.{name} as {sql}")
        return copy

    return tamper
