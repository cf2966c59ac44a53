"""The extract loader: one table of the ERP extract contract, from the landing folder
into the warehouse's raw schema and its quarantine.

Its modules, each a step a newcomer can read on its own: `load.py` (the entry point,
`load_table`), `reading.py` (finding and reading the files), `periods.py` (the file
index and each record's period), `checks.py` (the contract checks), `writing.py`
(newest file wins, raw tables and quarantine) and `working_tables.py` (the tables the
steps share); after a load, `raw_parquet.py` mirrors the raw tables as Parquet for other
engines. Import from the module that defines a name: this file re-exports nothing.
"""
