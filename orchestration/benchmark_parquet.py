"""The Parquet marts export at 10 M P&L rows (docs/parquet_marts.md), without a 10 M build.

Replicates the `marts.fct_invoice_line_pnl` of a published warehouse to 10,000,000 rows
(row ids made unique, money scaled by a random factor so that it compresses no better than
real amounts) and writes it the way pipelines/parquet_marts.py does, hive-style by period:

    python -m orchestration.benchmark_parquet .oasis/warehouse.published.duckdb
"""

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

ROWS = 10_000_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("published", type=Path, help="a published warehouse to replicate")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "fct_invoice_line_pnl"
        connection = duckdb.connect(
            str(Path(folder) / "big.duckdb"), config={"memory_limit": "4GB", "threads": "2"}
        )
        connection.execute("attach ? as published (read_only)", [str(arguments.published)])
        (rows,) = connection.execute(
            "select count(*) from published.marts.fct_invoice_line_pnl"
        ).fetchall()[0]
        columns = connection.execute(
            """
            select column_name, data_type from information_schema.columns
            where table_catalog = 'published' and table_schema = 'marts'
                and table_name = 'fct_invoice_line_pnl'
            order by ordinal_position
            """
        ).fetchall()
        select = [
            "row_id || ':' || copy as row_id"
            if name == "row_id"
            else f"cast({name} * (0.5 + random()) as {data_type}) as {name}"
            if data_type.startswith("DECIMAL")
            else name
            for name, data_type in columns
        ]
        connection.execute(
            f"create table pnl as select {', '.join(select)} "
            f"from published.marts.fct_invoice_line_pnl, range({ROWS // rows + 1}) as r(copy) "
            f"limit {ROWS}"
        )
        started = time.perf_counter()
        connection.execute(f"copy pnl to '{out}' (format parquet, partition_by (period))")
        seconds = time.perf_counter() - started
        files = list(out.rglob("*.parquet"))
        size = sum(path.stat().st_size for path in files)
        print(f"{ROWS:,} rows: {seconds:.1f} s, {size / 1e9:.2f} GB in {len(files)} files")
        connection.close()
        shutil.rmtree(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
