"""The method's settings of a warehouse: --var values kept beside it, and a build whose
settings differ from the last build's says so (it then rebuilds every period)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.method_settings import (
    MethodSettingError,
    changed_since_last_build,
    method_defaults,
    parse_var,
    read_method_settings,
    record_build,
    settings_file,
    write_method_settings,
)


def test_a_var_is_read_as_yaml_and_must_name_a_setting() -> None:
    known = method_defaults()
    assert known["cost_of_capital"] == 0.08
    assert "period_from" not in known
    assert parse_var("cost_of_capital=0.1", known) == ("cost_of_capital", 0.1)
    assert parse_var("window_months = 6", known) == ("window_months", 6)
    with pytest.raises(MethodSettingError, match="not a setting of the method"):
        parse_var("cost_of_capitol=0.1", known)
    with pytest.raises(MethodSettingError, match="expected name=value"):
        parse_var("cost_of_capital", known)


def test_settings_are_kept_beside_the_warehouse_and_added_to(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    assert read_method_settings(warehouse) == {}
    write_method_settings(warehouse, {"cost_of_capital": 0.1})
    write_method_settings(warehouse, {"window_months": 6})
    assert settings_file(warehouse) == tmp_path / "w.settings.yml"
    assert read_method_settings(warehouse) == {"cost_of_capital": 0.1, "window_months": 6}


def test_a_change_since_the_last_build_is_named_and_a_default_is_no_change(
    tmp_path: Path,
) -> None:
    warehouse = tmp_path / "w.duckdb"
    assert changed_since_last_build(warehouse, {"cost_of_capital": 0.1}) == []  # first build
    record_build(warehouse, {})
    assert changed_since_last_build(warehouse, {"cost_of_capital": 0.08}) == []
    assert changed_since_last_build(warehouse, {"cost_of_capital": 0.1}) == [
        "cost_of_capital 0.08 -> 0.1"
    ]
    record_build(warehouse, {"cost_of_capital": 0.1})
    assert changed_since_last_build(warehouse, {}) == ["cost_of_capital 0.1 -> 0.08"]
