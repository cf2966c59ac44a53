"""The demo company's ERP extract: Meridian Supply Co., for demos, tests and benchmarks.

Its modules: `erp.py` (the entry point, `write_demo_erp`, and the files), `company.py`
(catalogue, reps, cost pools, ledger, the month run), `customers.py` (who the customers
are and how each behaves), `orders.py` (each month's orders and what follows from them),
`stories.py` (the planted stories, `DemoSummary.stories`) and `columns.py` (the Arrow
columns they all build). Import from the module that defines a name: this file
re-exports nothing.
"""
