"""The tables a Spark run wrote, copied into the DuckDB warehouse.

With `--engine spark` dbt runs on Spark (dbt_project/profiles.yml, target spark), which
writes every model as a Parquet table under `<warehouse folder>/spark/tables/<schema>.db/`.
The audit, the publication, the feeds, the reports and `oasis explain` read the DuckDB
warehouse; copying Spark's tables there once, after the build, lets every one of them run
unchanged on what Spark computed (docs/spark.md). DuckDB reads the Parquet files itself:
nothing passes through Python.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.settings import spark_home
from pipelines.sql import quote_identifier, quote_literal

# Spark's managed tables: <spark.sql.warehouse.dir>/<schema>.db/<table>/part-*.parquet.
# The raw schema is no folder there: its tables are the loader's Parquet, which DuckDB has.
SPARK_TABLES = "tables"


def spark_tables_folder(warehouse: Path) -> Path:
    return spark_home(warehouse) / SPARK_TABLES


def copy_spark_tables(connection: duckdb.DuckDBPyConnection, warehouse: Path) -> list[str]:
    """Replaces each table of the warehouse that Spark built by Spark's rows, in one
    transaction; returns the tables copied, as schema.table."""
    # A DuckDB build of the same warehouse left views (staging) where Spark has tables.
    views = set(
        connection.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'VIEW'"
        ).fetchall()
    )
    copied = []
    connection.execute("begin transaction")
    for schema_folder in sorted(spark_tables_folder(warehouse).glob("*.db")):
        schema = schema_folder.name.removesuffix(".db")
        connection.execute(f"create schema if not exists {quote_identifier(schema)}")
        for table_folder in sorted(path for path in schema_folder.iterdir() if path.is_dir()):
            table = f"{quote_identifier(schema)}.{quote_identifier(table_folder.name)}"
            if (schema, table_folder.name) in views:
                connection.execute(f"drop view {table}")
            connection.execute(
                f"create or replace table {table} as select * from read_parquet("
                f"{quote_literal(str(table_folder / '*.parquet'))}, hive_partitioning = false)"
            )
            copied.append(f"{schema}.{table_folder.name}")
    connection.execute("commit")
    return copied
