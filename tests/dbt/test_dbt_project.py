"""The dbt project on its own: unit tests of the SQL on an empty warehouse (no end-to-end
run to wait for), and a plain `dbt build` on a copy of the warehouse that the end-to-end run
built (a fixture warehouse)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from dbt.cli.main import dbtRunner, dbtRunnerResult

from pipelines.contract import DRIVERS, LOAD_ORDER, TABLES
from pipelines.demo.erp import write_demo_erp
from pipelines.loader.load import load_table
from pipelines.settings import REPO_ROOT
from tests.conftest import BuiltWarehouse

DBT_PROJECT = REPO_ROOT / "dbt_project"


@pytest.fixture
def fixture_warehouse(
    built_warehouse: BuiltWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    copy = tmp_path / "fixture.duckdb"
    shutil.copyfile(built_warehouse.path, copy)
    monkeypatch.setenv("OASIS_WAREHOUSE", str(copy))
    return copy


@pytest.fixture
def empty_warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every model built with no rows (`dbt run --empty`) over raw tables the real loader
    wrote from a 5-customer, 2-month demo: dbt unit tests read their inputs' columns from
    the warehouse, and the incremental models' own tables, but none of their rows. The
    seeds are loaded whole: the driver macros read the seed cost_drivers as they compile."""
    landing = write_demo_erp(tmp_path / "landing", customers=50, months=2).out_dir
    warehouse = tmp_path / "empty.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        for table in LOAD_ORDER:
            load_table(connection, landing, table)
    monkeypatch.setenv("OASIS_WAREHOUSE", str(warehouse))
    _dbt("seed", target_path=tmp_path / "target")
    _dbt("run", "--empty", target_path=tmp_path / "target")
    return warehouse


def _dbt(*arguments: str, target_path: Path) -> list:
    result = _invoke(*arguments, target_path=target_path)
    assert result.success, result.exception
    return list(result.result)


def _invoke(*arguments: str, target_path: Path) -> dbtRunnerResult:
    return dbtRunner().invoke(
        [
            *arguments,
            "--project-dir",
            str(DBT_PROJECT),
            "--profiles-dir",
            str(DBT_PROJECT),
            "--target-path",
            str(target_path),
        ]
    )


@pytest.mark.unit
def test_every_dbt_unit_test_passes(empty_warehouse: Path, tmp_path: Path) -> None:
    results = _dbt("test", "--select", "test_type:unit", target_path=tmp_path / "target")
    assert len(results) >= 15
    assert {result.status for result in results} == {"pass"}


# What the driver macros give the models as they compile, as one row of text.
DRIVER_MACROS_SQL = """
select
    '{{ cost_drivers() | join(",") }}' as drivers,
    '{{ cost_drivers(on_rows="return") | join(",") }}' as return_drivers,
    '{{ cost_components() | join(",") }}' as components
"""


@pytest.mark.unit
def test_the_loader_and_dbt_read_one_list_of_drivers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The contract's domain of cost_pools.driver (what the loader quarantines by), the
    loaded seed and what the driver macros give the models are the same drivers, in the
    same order."""
    warehouse = tmp_path / "seed.duckdb"
    monkeypatch.setenv("OASIS_WAREHOUSE", str(warehouse))
    _dbt("seed", "--select", "cost_drivers", target_path=tmp_path / "target")
    # Through dbt, which keeps the warehouse open in this process.
    [seed] = _dbt(
        "show",
        "--inline",
        "select driver, cost_component, on_rows from {{ ref('cost_drivers') }} order by sort_order",
        "--limit",
        "100",
        target_path=tmp_path / "target",
    )
    seeded = [tuple(row) for row in seed.agate_table.rows]
    [pool_driver] = [column for column in TABLES["cost_pools"].columns if column.name == "driver"]
    assert pool_driver.domain == DRIVERS == tuple(driver for driver, _, _ in seeded)
    assert len(DRIVERS) == 13  # METHOD.md, "Cost pools and drivers"

    [shown] = _dbt("show", "--inline", DRIVER_MACROS_SQL, target_path=tmp_path / "target")
    [row] = shown.agate_table.rows
    assert row["drivers"].split(",") == list(DRIVERS)
    assert row["return_drivers"].split(",") == [
        driver for driver, _, on_rows in seeded if on_rows == "return"
    ]
    # In the order of their first driver: the column order of the cost-to-serve marts.
    components = list(dict.fromkeys(component for _, component, _ in seeded))
    assert row["components"].split(",") == components


def test_dbt_build_passes_every_data_test_on_the_fixture_warehouse(
    fixture_warehouse: Path, tmp_path: Path
) -> None:
    results = _dbt("build", "--exclude-resource-type", "unit_test", target_path=tmp_path / "target")
    statuses = {result.node.resource_type: set() for result in results}
    for result in results:
        statuses[result.node.resource_type].add(str(result.status))
    assert statuses["model"] == {"success"}
    assert statuses["test"] == {"pass"}


def test_a_pnl_row_twice_or_missing_fails_the_every_document_once_test(
    fixture_warehouse: Path, tmp_path: Path
) -> None:
    with duckdb.connect(str(fixture_warehouse)) as connection:
        connection.execute(
            """
            insert into marts.fct_invoice_line_pnl
            select * from marts.fct_invoice_line_pnl where row_kind = 'invoice' limit 1
            """
        )
        connection.execute(
            """
            delete from marts.fct_invoice_line_pnl where row_id = (
                select min(row_id) from marts.fct_invoice_line_pnl where row_kind = 'return'
            )
            """
        )
    result = _invoke(
        "test", "--select", "assert_every_document_in_pnl_once", target_path=tmp_path / "target"
    )
    [outcome] = result.result
    assert str(outcome.status) == "fail"
    assert outcome.failures == 2  # the invoice line twice, the return not at all
