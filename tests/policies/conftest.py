"""A longer demo for the policy stories, built by the real `oasis run` once per session.

The session's demo (tests/conftest.py: 24 months) reaches one yearly window back; the
lifetime exemption looks three years back, and with 10 reps a handful of invoices
decides who overrides most. 40 months give complete yearly windows back three years,
for growth and for the lifetime exemption. About 90 seconds.
"""

from __future__ import annotations

import pytest

from pipelines.demo.erp import write_demo_erp
from tests.conftest import BuiltWarehouse, run_oasis, warehouse_built_once

LONG_DEMO_CUSTOMERS = 200
LONG_DEMO_MONTHS = 40


@pytest.fixture(scope="session")
def long_demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    def build(folder):
        demo = write_demo_erp(
            folder / "landing", customers=LONG_DEMO_CUSTOMERS, months=LONG_DEMO_MONTHS, seed=7
        )
        return run_oasis(demo, folder / "home")

    return warehouse_built_once(tmp_path_factory, "long_oasis_home", build)
