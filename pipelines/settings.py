"""Where Oasis reads and writes, resolved from flags, then environment, then defaults.

Every path setting has an environment variable, so `oasis run`, `oasis ui`, the
Dagster UI and dbt see the same places:

| variable            | default                          | what it is                        |
|---------------------|----------------------------------|-----------------------------------|
| OASIS_HOME          | .oasis (in the checkout)         | local state, git-ignored          |
| OASIS_SOURCE        | $OASIS_HOME/demo                 | the landing folder (CONTRACT.md)  |
| OASIS_WAREHOUSE     | $OASIS_HOME/warehouse.duckdb     | the DuckDB warehouse              |
| OASIS_REPORTS       | $OASIS_HOME/reports              | run and audit reports for people  |
| OASIS_EXPORTS       | $OASIS_HOME/exports              | feeds for other systems           |
| OASIS_CURRENCY      | the most frequent invoice currency | the company currency            |
| OASIS_DUCKDB_MEMORY_LIMIT | 4GB                        | DuckDB's memory limit (loads, dbt) |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    home: Path
    source: Path
    warehouse: Path
    reports: Path
    exports: Path
    company_currency: str | None
    duckdb_memory_limit: str

    @property
    def uses_demo_source(self) -> bool:
        return self.source == self.home / "demo"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    def as_environment(self) -> dict[str, str]:
        """The same settings as environment variables, for Dagster and dbt."""
        return {
            "OASIS_HOME": str(self.home),
            "OASIS_SOURCE": str(self.source),
            "OASIS_WAREHOUSE": str(self.warehouse),
            "OASIS_REPORTS": str(self.reports),
            "OASIS_EXPORTS": str(self.exports),
            # Empty means "the most frequent invoice currency".
            "OASIS_CURRENCY": self.company_currency or "",
            "OASIS_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
        }


def resolve_settings(
    environ: Mapping[str, str],
    *,
    source: Path | None = None,
    warehouse: Path | None = None,
) -> Settings:
    home = Path(environ.get("OASIS_HOME", REPO_ROOT / ".oasis")).resolve()

    def pick(flag: Path | None, variable: str, default: Path) -> Path:
        chosen = flag or (Path(environ[variable]) if environ.get(variable) else default)
        return chosen.resolve()

    return Settings(
        home=home,
        source=pick(source, "OASIS_SOURCE", home / "demo"),
        warehouse=pick(warehouse, "OASIS_WAREHOUSE", home / "warehouse.duckdb"),
        reports=pick(None, "OASIS_REPORTS", home / "reports"),
        exports=pick(None, "OASIS_EXPORTS", home / "exports"),
        company_currency=environ.get("OASIS_CURRENCY") or None,
        duckdb_memory_limit=environ.get("OASIS_DUCKDB_MEMORY_LIMIT") or "4GB",
    )
