"""`oasis run --var`: a setting changed on a monthly run rebuilds every period, not only the
month asked for (the incremental models cannot see a setting change)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import BuiltWarehouse, copy_of, run_oasis

pytestmark = pytest.mark.e2e


def test_a_changed_setting_on_a_monthly_run_rebuilds_every_period(
    small_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    demo = small_warehouse.demo
    first_period, last_period = demo.closed_periods[0], demo.closed_periods[-1]
    carrying_cost = "select sum(carrying_cost) from marts.fct_invoice_line_pnl where period = ?"

    before = copy_of(small_warehouse, tmp_path / "home")  # built with the default settings
    old_cost = before.scalar(carrying_cost, [first_period])
    after = run_oasis(
        demo, tmp_path / "home", "--period", last_period, "--var", "cost_of_capital=0.16"
    )

    assert "Settings changed since the last build (cost_of_capital 0.08 -> 0.16)" in (
        after.run_output
    )
    # The month not asked for was rebuilt with the new rate: twice the carrying cost.
    assert abs(after.scalar(carrying_cost, [first_period]) - 2 * old_cost) < 0.01
    assert "cost_of_capital: 0.16" in (tmp_path / "home" / "warehouse.settings.yml").read_text()
