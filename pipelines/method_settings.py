"""The method's settings of one warehouse: dbt vars kept in a file beside it.

`dbt_project/dbt_project.yml` holds every var with its METHOD.md default. A warehouse's
own values live in `<warehouse>.settings.yml` (written by `oasis run --var name=value`,
or by hand), and every dbt build of that warehouse passes them as `--vars`.

An incremental build rebuilds only the periods it is given: it cannot see that a setting
changed, and older periods would keep the old rule. So each build records the settings it
used in `<warehouse>.settings.built.json`; a build whose settings differ from the last one
rebuilds every period, and says which settings changed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from pipelines.settings import REPO_ROOT

DBT_PROJECT_FILE = REPO_ROOT / "dbt_project" / "dbt_project.yml"
# Set by the partitions on every run, never by a user.
PARTITION_VARS = ("period_from", "period_to")


class MethodSettingError(ValueError):
    """A --var or a settings file line Oasis cannot use; the message says which."""


def settings_file(warehouse: Path) -> Path:
    """`warehouse.settings.yml` beside `warehouse.duckdb`."""
    return warehouse.with_name(f"{warehouse.stem}.settings.yml")


def built_settings_file(warehouse: Path) -> Path:
    return warehouse.with_name(f"{warehouse.stem}.settings.built.json")


def method_defaults() -> dict[str, Any]:
    """Every method setting with its default, from dbt_project.yml."""
    project = yaml.safe_load(DBT_PROJECT_FILE.read_text())
    return {name: value for name, value in project["vars"].items() if name not in PARTITION_VARS}


def parse_var(text: str, known: dict[str, Any]) -> tuple[str, Any]:
    """'cost_of_capital=0.1' -> ('cost_of_capital', 0.1); the value is read as YAML."""
    name, equals, value = text.partition("=")
    name = name.strip()
    if not equals or not name:
        raise MethodSettingError(f"--var {text!r}: expected name=value, e.g. cost_of_capital=0.1")
    if name not in known:
        raise MethodSettingError(
            f"--var {name}: not a setting of the method; the settings are {', '.join(known)} "
            "(README, 'Settings')"
        )
    try:
        return name, yaml.safe_load(value)
    except yaml.YAMLError as error:
        raise MethodSettingError(f"--var {text!r}: the value is not readable: {error}") from None


def read_method_settings(warehouse: Path) -> dict[str, Any]:
    """The warehouse's own settings (none when it has no settings file)."""
    path = settings_file(warehouse)
    if not path.exists():
        return {}
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise MethodSettingError(f"{path} is not valid YAML: {error}") from None
    unknown = sorted(set(values) - set(method_defaults()))
    if not isinstance(values, dict) or unknown:
        raise MethodSettingError(f"{path}: not settings of the method: {', '.join(unknown)}")
    return values


def write_method_settings(warehouse: Path, changes: dict[str, Any]) -> dict[str, Any]:
    """Adds `changes` to the warehouse's settings file; returns all its settings."""
    values = {**read_method_settings(warehouse), **changes}
    path = settings_file(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (
        "# The method's settings of this warehouse (dbt vars; defaults and meanings in\n"
        "# dbt_project/dbt_project.yml and the README). A change rebuilds every period.\n"
    )
    path.write_text(header + yaml.safe_dump(values, sort_keys=True))
    return values


def changed_since_last_build(warehouse: Path, values: dict[str, Any]) -> list[str]:
    """'cost_of_capital 0.08 -> 0.1' for each setting that differs from the last build's
    (defaults filled in on both sides); nothing before the first recorded build."""
    path = built_settings_file(warehouse)
    if not path.exists():
        return []
    defaults = method_defaults()
    before = {**defaults, **json.loads(path.read_text())}
    now = {**defaults, **values}
    return [
        f"{name} {before.get(name)} -> {now.get(name)}"
        for name in sorted(set(before) | set(now))
        if before.get(name) != now.get(name)
    ]


def record_build(warehouse: Path, values: dict[str, Any]) -> None:
    built_settings_file(warehouse).write_text(json.dumps(values, sort_keys=True) + "\n")
