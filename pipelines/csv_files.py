"""The one way Oasis writes CSV (the policy feed, its changes, quarantine.csv).

People open these files in spreadsheets, which run a cell that begins with `=`, `+`, `-`
or `@` as a formula, and so do some after a tab or carriage return (CSV injection): a
customer id `=HYPERLINK("http://x.invalid","C5")` from an ERP extract would become a live
link. As OWASP recommends, such a text cell is written with a single quote before it
(`'=HYPERLINK(...)`), which spreadsheets show as text. Only text columns are touched: a
negative amount in a numeric column stays a number. Parquet and JSONL keep the exact
value, so a system that needs it reads those.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

# What spreadsheets take for the start of a formula (OWASP, "CSV Injection").
_FORMULA_START = r"^([=+\-@\t\r])"


def write_csv(rows: pa.Table | pa.RecordBatchReader, path: Path) -> None:
    """Writes `rows` to `path` with a header, batch by batch (a reader is never held in
    memory whole). Empty field = null, true/false, '.' decimal point: CONTRACT.md's
    conventions."""
    batches = rows.to_reader() if isinstance(rows, pa.Table) else rows
    with pa_csv.CSVWriter(path, batches.schema) as writer:
        for batch in batches:
            writer.write_batch(_without_formulas(batch))


def _without_formulas(batch: pa.RecordBatch) -> pa.RecordBatch:
    columns = [
        pc.replace_substring_regex(column, pattern=_FORMULA_START, replacement=r"'\1")
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
        else column
        for column in batch.columns
    ]
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema)
