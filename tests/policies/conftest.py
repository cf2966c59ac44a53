"""A longer demo for the policy stories, built by the real `oasis run` once per session.

The session's demo (tests/conftest.py: 120 customers, 15 months) is too short for them: a
year before its as-of period its window holds 3 closed months, too few to measure growth
(one large order moves a small account's baseline), and with 10 reps a handful of
invoices decides who overrides most. 40 months give complete yearly windows back three
years, for growth and for the lifetime exemption. About 90 seconds.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator

import pytest

from pipelines.demo_erp import write_demo_erp
from tests.conftest import BuiltWarehouse

LONG_DEMO_CUSTOMERS = 200
LONG_DEMO_MONTHS = 40


@pytest.fixture(scope="session")
def long_demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltWarehouse]:
    from orchestration.cli import main

    demo = write_demo_erp(
        tmp_path_factory.mktemp("long_landing"),
        customers=LONG_DEMO_CUSTOMERS,
        months=LONG_DEMO_MONTHS,
        seed=7,
    )
    home = tmp_path_factory.mktemp("long_oasis_home")
    warehouse = home / "warehouse.duckdb"
    # `oasis run` exports its settings for Dagster and dbt: restore ours afterwards.
    saved_environment = dict(os.environ)
    os.environ["OASIS_HOME"] = str(home)
    try:
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            exit_code = main(["run", "--source", str(demo.out_dir), "--warehouse", str(warehouse)])
        assert exit_code == 0, output.getvalue()
        yield BuiltWarehouse(warehouse, home, demo, output.getvalue())
    finally:
        os.environ.clear()
        os.environ.update(saved_environment)
