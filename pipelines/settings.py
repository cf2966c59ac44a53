"""Where Oasis reads and writes, resolved from flags, then environment, then defaults.

Every path setting has an environment variable, so `oasis run`, `oasis ui`, the
Dagster UI and dbt see the same places:

| variable            | default                          | what it is                        |
|---------------------|----------------------------------|-----------------------------------|
| OASIS_HOME          | .oasis (in the checkout)         | local state, git-ignored          |
| OASIS_SOURCE        | $OASIS_HOME/demo                 | landing folder or postgresql:// URL |
| OASIS_MAPPING       | none                             | YAML mapping (mappings/)          |
| OASIS_SOURCE_FILES  | none                             | folder beside a database          |
| OASIS_WAREHOUSE     | $OASIS_HOME/warehouse.duckdb     | the DuckDB warehouse              |
| OASIS_ENGINE        | duckdb                           | where dbt runs: duckdb or spark   |
| OASIS_REPORTS       | reports/ beside the warehouse    | run and audit reports for people  |
| OASIS_EXPORTS       | exports/ beside the warehouse    | feeds for other systems           |
| OASIS_CURRENCY      | the most frequent invoice currency | the company currency            |
| OASIS_DUCKDB_MEMORY_LIMIT | 4GB                        | DuckDB's memory limit (loads, dbt) |
| OASIS_WAREHOUSE_LOCK_WAIT | 0                          | seconds a run waits for the warehouse |
| OASIS_DAGSTER_INSTANCE | sqlite                          | Dagster's storage: sqlite or postgres |

State belongs to its warehouse: the reports, the exports, the landing index and the Dagster
instance (its run history) live in the warehouse's folder unless set explicitly, so a
second warehouse (`--warehouse ./wh/w.duckdb`) never compares its feed with the first's.
The raw tables' Parquet mirror is always there, in `raw/` (pipelines/loader/raw_parquet.py).
The default warehouse is in $OASIS_HOME, so its state is there too. A database or a
mapped source is staged before each run into `staged_source/` there, the landing folder
the loader then reads (docs/sources.md); Oasis sets OASIS_LANDING to the folder it loads.

A run holds its warehouse for its whole length; another run of the same warehouse waits
OASIS_WAREHOUSE_LOCK_WAIT seconds for it, then fails naming the holder (0: at once).
OASIS_DAGSTER_INSTANCE picks the file `oasis` copies into $OASIS_HOME/dagster: dagster.yaml
(SQLite there) or dagster.postgres.yaml (a shared PostgreSQL, OASIS_DAGSTER_PG_*).
docs/dagster_instance.md says more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# The warehouse's file in OASIS_HOME unless OASIS_WAREHOUSE names another.
DEFAULT_WAREHOUSE_NAME = "warehouse.duckdb"

# OASIS_ENGINE, the dbt target that runs the models (dbt_project/profiles.yml). On spark, dbt
# runs in a local pyspark over the raw Parquet, and the tables Spark writes are copied into
# the warehouse for the audit, the publication and the reports (docs/spark.md).
ENGINES = ("duckdb", "spark")

# OASIS_DAGSTER_INSTANCE -> the instance file `oasis` copies into $OASIS_HOME/dagster.
DAGSTER_INSTANCE_FILES = {"sqlite": "dagster.yaml", "postgres": "dagster.postgres.yaml"}
# What dagster.postgres.yaml reads its connection from (OASIS_DAGSTER_PG_PASSWORD may be empty).
DAGSTER_POSTGRES_VARIABLES = (
    "OASIS_DAGSTER_PG_HOST",
    "OASIS_DAGSTER_PG_PORT",
    "OASIS_DAGSTER_PG_USER",
    "OASIS_DAGSTER_PG_PASSWORD",
    "OASIS_DAGSTER_PG_DB",
)


def spark_home(warehouse: Path) -> Path:
    """Where the Spark engine keeps its metastore and tables: beside the warehouse."""
    return warehouse.parent / "spark"


def duckdb_config(warehouse: Path, memory_limit: str) -> dict[str, str]:
    """DuckDB's settings for every connection of a run to `warehouse` (dbt's profile sets the
    same: dbt_project/profiles.yml). Beyond the memory limit DuckDB spills to
    `<warehouse>.tmp` beside the warehouse: a connection with no file of its own (the
    publication's) would spill into whatever folder the process started in."""
    return {"memory_limit": memory_limit, "temp_directory": str(spill_directory(warehouse))}


def spill_directory(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".tmp")


def out_of_memory_message(warehouse: Path, memory_limit: str, error: str) -> str:
    """What to do when DuckDB runs out of memory, in our setting's words: DuckDB's own tips
    name its `SET memory_limit`, which an Oasis user cannot reach."""
    said = error.strip().splitlines()[0] if error.strip() else "out of memory"
    return (
        f"DuckDB ran out of memory with OASIS_DUCKDB_MEMORY_LIMIT={memory_limit}: what it "
        f"could not spill to {spill_directory(warehouse)} did not fit. Raise "
        f"OASIS_DUCKDB_MEMORY_LIMIT (default 4GB) and run again. DuckDB said: {said}"
    )


class SettingsError(ValueError):
    """A setting has a value Oasis cannot use; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    home: Path
    source: Path
    warehouse: Path
    reports: Path
    exports: Path
    company_currency: str | None
    duckdb_memory_limit: str
    warehouse_lock_wait: int = 0
    dagster_instance: str = "sqlite"
    # The day of the month the month-close schedule runs the month just closed.
    month_close_day: int = 3
    # A source staged into `source` before each run (docs/sources.md): a database URL,
    # or a folder of ERP-shaped files read through `mapping`; None: `source` is the
    # landing folder itself.
    origin: str | None = None
    mapping: Path | None = None
    # Beside a database: a landing folder for the tables it lacks (cost_pools, gl_summary).
    source_files: Path | None = None
    engine: str = "duckdb"

    @property
    def uses_demo_source(self) -> bool:
        return self.source == self.home / "demo"

    @property
    def state_folder(self) -> Path:
        """Where this warehouse's own state lives: the folder of the warehouse file."""
        return self.warehouse.parent

    @property
    def landing_index(self) -> Path:
        """Which periods each landing file holds, kept between scans (never the warehouse)."""
        return self.state_folder / "landing_index.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.state_folder / "dagster"

    @property
    def dagster_instance_file(self) -> Path:
        """The dagster.yaml of the chosen instance, in the checkout."""
        return REPO_ROOT / DAGSTER_INSTANCE_FILES[self.dagster_instance]

    def as_environment(self) -> dict[str, str]:
        """The same settings as environment variables, for Dagster and dbt."""
        from pipelines.loader.raw_parquet import raw_parquet_folder  # imports the contract

        return {
            "OASIS_HOME": str(self.home),
            "OASIS_SOURCE": self.origin or str(self.source),
            "OASIS_MAPPING": str(self.mapping or ""),
            "OASIS_SOURCE_FILES": str(self.source_files or ""),
            # The folder the loader reads: the source itself, or where it is staged.
            "OASIS_LANDING": str(self.source),
            "OASIS_WAREHOUSE": str(self.warehouse),
            "OASIS_REPORTS": str(self.reports),
            "OASIS_EXPORTS": str(self.exports),
            # Empty means "the most frequent invoice currency".
            "OASIS_CURRENCY": self.company_currency or "",
            "OASIS_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "OASIS_WAREHOUSE_LOCK_WAIT": str(self.warehouse_lock_wait),
            "OASIS_DAGSTER_INSTANCE": self.dagster_instance,
            "OASIS_MONTH_CLOSE_DAY": str(self.month_close_day),
            # dbt_project/profiles.yml: the target, and where the spark target works.
            "OASIS_ENGINE": self.engine,
            "OASIS_SPARK_HOME": str(spark_home(self.warehouse)),
            "OASIS_RAW_PARQUET": str(raw_parquet_folder(self.warehouse)),
        }


def resolve_settings(
    environ: Mapping[str, str],
    *,
    source: Path | str | None = None,
    warehouse: Path | None = None,
    mapping: Path | None = None,
    source_files: Path | None = None,
    engine: str | None = None,
) -> Settings:
    home = Path(environ.get("OASIS_HOME", REPO_ROOT / ".oasis")).resolve()
    given = str(source) if source else environ.get("OASIS_SOURCE") or None
    mapping = mapping or (Path(environ["OASIS_MAPPING"]) if environ.get("OASIS_MAPPING") else None)
    source_files = source_files or (
        Path(environ["OASIS_SOURCE_FILES"]) if environ.get("OASIS_SOURCE_FILES") else None
    )
    database = given if given and given.startswith(("postgresql://", "postgres://")) else None

    def pick(flag: Path | None, variable: str, default: Path) -> Path:
        chosen = flag or (Path(environ[variable]) if environ.get(variable) else default)
        return chosen.resolve()

    warehouse = _dbt_duckdb_can_name(
        pick(warehouse, "OASIS_WAREHOUSE", home / DEFAULT_WAREHOUSE_NAME)
    )
    folder = None if database else (Path(given).resolve() if given else home / "demo")
    staged = database is not None or mapping is not None
    return Settings(
        home=home,
        # A staged source lands beside the warehouse: its state, like the landing index.
        source=warehouse.parent / "staged_source" if staged else folder,
        origin=(database or str(folder)) if staged else None,
        mapping=mapping.resolve() if mapping else None,
        source_files=source_files.resolve() if source_files else None,
        warehouse=warehouse,
        reports=pick(None, "OASIS_REPORTS", warehouse.parent / "reports"),
        exports=pick(None, "OASIS_EXPORTS", warehouse.parent / "exports"),
        company_currency=environ.get("OASIS_CURRENCY") or None,
        duckdb_memory_limit=environ.get("OASIS_DUCKDB_MEMORY_LIMIT") or "4GB",
        warehouse_lock_wait=_seconds(environ, "OASIS_WAREHOUSE_LOCK_WAIT"),
        dagster_instance=_dagster_instance(environ),
        month_close_day=_month_close_day(environ),
        engine=_engine(engine or environ.get("OASIS_ENGINE") or "duckdb"),
    )


# dbt-duckdb names the warehouse's DuckDB catalog after its file name (up to the first dot)
# and writes that name into string literals of its SQL without escaping, so a quote in the
# file name fails every dbt build (`wärehouse o'k.duckdb`: "unterminated quoted
# identifier"). It also reads the path as a URL, so a `#` or `?` would cut it short. Any
# other character is fine, in the folders and the file name (spaces, apostrophes in
# folders, non-ASCII letters): Oasis passes paths to DuckDB as parameters.
_CATALOG_BREAKERS = {"'", '"'}
_URL_BREAKERS = {"#", "?"}


def _dbt_duckdb_can_name(warehouse: Path) -> Path:
    catalog = warehouse.name.lstrip(".").split(".")[0]
    if _CATALOG_BREAKERS & set(catalog) or _URL_BREAKERS & set(str(warehouse)):
        raise SettingsError(
            f"the warehouse {warehouse} cannot be built by dbt-duckdb: its file name must hold "
            "no quote (' or \") and its path no '#' or '?'; any other character is fine"
        )
    return warehouse


def _seconds(environ: Mapping[str, str], variable: str) -> int:
    text = environ.get(variable) or "0"
    if not text.strip().isdecimal():
        raise SettingsError(f"{variable} is {text!r}; expected whole seconds, 0 or more")
    return int(text)


def _month_close_day(environ: Mapping[str, str]) -> int:
    text = (environ.get("OASIS_MONTH_CLOSE_DAY") or "3").strip()
    # Up to 28: every month has that day.
    if not text.isdigit() or not 1 <= int(text) <= 28:
        raise SettingsError(f"OASIS_MONTH_CLOSE_DAY is {text!r}; expected a day from 1 to 28")
    return int(text)


def _engine(name: str) -> str:
    engine = name.strip().lower()
    if engine not in ENGINES:
        raise SettingsError(
            f"the engine is {name!r} (--engine or OASIS_ENGINE); expected one of "
            f"{', '.join(ENGINES)} (docs/spark.md)"
        )
    return engine


def _dagster_instance(environ: Mapping[str, str]) -> str:
    kind = (environ.get("OASIS_DAGSTER_INSTANCE") or "sqlite").strip().lower()
    if kind not in DAGSTER_INSTANCE_FILES:
        raise SettingsError(
            f"OASIS_DAGSTER_INSTANCE is {environ['OASIS_DAGSTER_INSTANCE']!r}; expected one of "
            f"{', '.join(DAGSTER_INSTANCE_FILES)} (the Dagster instance's storage, "
            "docs/dagster_instance.md)"
        )
    return kind
