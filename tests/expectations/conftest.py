"""Fixtures for the auditors' suites: the clean warehouse of the session, audited once,
and copies of it to tamper with (the shared warehouse itself is never changed)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from expectations.runner import AuditResult, audit_warehouse
from tests.conftest import BuiltWarehouse


@pytest.fixture(scope="session")
def clean_audit(built_warehouse: BuiltWarehouse) -> AuditResult:
    return audit_warehouse(built_warehouse.path)


@pytest.fixture
def tampered(built_warehouse: BuiltWarehouse, tmp_path: Path) -> Callable[..., Path]:
    """tampered(sql, ...) -> a copy of the clean warehouse with the statements applied."""

    def tamper(*statements: str) -> Path:
        copy = tmp_path / "tampered.duckdb"
        shutil.copyfile(built_warehouse.path, copy)
        with duckdb.connect(str(copy)) as connection:
            for statement in statements:
                connection.execute(statement)
        return copy

    return tamper
