"""A believable B2B distributor's ERP extract, for demos, tests and benchmarks.

`write_demo_erp` writes every table of the ERP extract contract (CONTRACT.md) for
Meridian Supply Co., a fictional distributor of safety, janitorial, fastening,
packaging, electrical and maintenance supplies. The output is deterministic: the
same arguments give the same data, whatever today's date is.

Periods. `months` closed months end at `end_period`; each has facts, cost pools
and a general-ledger summary. The month after is the open period: the extract was
taken on its 5th day, so it holds those few days of invoices, shipments,
payments, returns, service contacts, sales activities and overrides, but no cost
pools and no ledger yet (METHOD.md, "Periods"). Payments of late-month invoices
dated in the open period lie after the as-of date; the pipeline must ignore them.

Volume. Invoice lines grow linearly with `customers`: about 7.1 invoice lines per
customer per month (3.9 lines an invoice), after new accounts, churn and
seasonality. Over 24 months that is about 171 lines per customer, plus under 1%
for the open period's few days:

    customers      invoice lines (24 months)
          580       ~100,000
          800       ~138,000   (the default: under 2 seconds)
        5,800     ~1,000,000
       58,000    ~10,000,000   (~20 s, ~0.5 GB peak memory: one month is held at a time)

The company. Customer size is log-logistic (a few large accounts, a long tail of
small ones). Large accounts order by EDI and web in big orders, have contract prices
and free freight; the tail orders by phone, e-mail, fax and through reps, in small
orders. Planted stories (returned in `DemoSummary.stories`) give the analysis
something real to find: project-based buyers who went quiet, fast growers, customers
where our share of wallet is small, return abusers, heavy returners who stay
profitable, service abusers and reps who override policy far more often than the
others; and for the desert portal and team (METHOD.md): a family whose SKUs earn
very different profits per unit, a SKU often backordered while a better sibling is
in stock, customers who keep to their families and take up a new one after another
(absorbent pads then a spill kit, lamps then a ladder, lubricant then HVAC filters), a
cheap bulky SKU not worth taking back, a SKU returned for unclear instructions, reps
whose books are full of small accounts they visit, and referrals that bring the best
accounts. Cost pools are a cost per driver unit times the month's actual units, with
noise; customer service states its capacity, so part of it is idle. Calibrated so
that, with METHOD.md's P&L over the latest 12 months, the top 20% of customers make
198% of net profit in the default extract; about half of the customers, mostly small
ones, lose money. Total profit is a small difference of large sums, so other seeds
land far from it (from about 160% to 270% with 800 customers, measured before
customers kept to assortments).

This module is the demo's entry point and writes the files; the company and its
catalogue, pools and ledger (company.py), its customers (customers.py), their orders
month by month (orders.py) and the planted stories (stories.py) each have a module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from pipelines.contract import TABLES
from pipelines.demo.company import Company
from pipelines.demo.customers import customers_table
from pipelines.demo.stories import planted_stories


@dataclass(frozen=True)
class DemoSummary:
    out_dir: Path
    closed_periods: tuple[str, ...]  # 'YYYY-MM', the months that have cost_pools
    open_period: str  # the month after the last closed one: a few days of facts, no pools
    rows: dict[str, int]  # rows written per contract table
    # planted story -> the ids its name says: customer_ids by default, rep_ids for
    # `*_reps`, SKUs for `*_sku*` and `family_with_profit_spread` (most profitable first),
    # "A>B" family pairs for `family_affinities` (buyers of A take up B), channels for
    # `referral_channel`
    stories: dict[str, tuple[str, ...]]


FILE_FORMATS = ("parquet", "csv")
MIN_CUSTOMERS = 50  # room for every planted story with customers to spare


def check_demo_size(
    customers: int, months: int, file_format: str = "parquet", occasional_share: float = 0.0
) -> None:
    """Raises ValueError, saying why, for a demo write_demo_erp cannot make."""
    if not 0.0 <= occasional_share <= 1.0:
        raise ValueError(f"occasional_share must be between 0 and 1, not {occasional_share}")
    if file_format not in FILE_FORMATS:
        raise ValueError(f"file_format must be one of {FILE_FORMATS}, not {file_format!r}")
    if customers < MIN_CUSTOMERS:
        raise ValueError(f"customers must be at least {MIN_CUSTOMERS}, not {customers}")
    if months < 1:
        raise ValueError(f"months must be at least 1, not {months}")


def write_demo_erp(
    out_dir: Path,
    *,
    customers: int = 800,
    months: int = 24,
    seed: int = 7,
    file_format: str = "parquet",
    end_period: str = "2026-10",
    occasional_share: float = 0.0,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Write the demo company's ERP extract to `out_dir`, one month at a time.
    `occasional_share`: the share of customers who buy about once a year (the planted
    stories' customers excepted), for a company of many rare buyers."""
    check_demo_size(customers, months, file_format, occasional_share)
    out_dir = Path(out_dir)
    last_closed = np.datetime64(end_period, "M")
    periods = last_closed + np.arange(-months + 1, 2)  # the closed months, then the open one
    writer = _ExtractWriter(out_dir, file_format)
    company = Company(seed, customers, periods, occasional_share)

    writer.write("customers", None, customers_table(company))
    writer.write("products", None, company.products_table())
    for month_index, period in enumerate(periods):
        tables = company.month(month_index)
        for name, table in tables.items():
            writer.write(name, str(period), table)
        if progress is not None:
            progress(f"{period}: {tables['invoice_lines'].num_rows:,} invoice lines")

    return DemoSummary(
        out_dir=out_dir,
        closed_periods=tuple(str(p) for p in periods[:-1]),
        open_period=str(periods[-1]),
        rows=dict(writer.rows),
        stories=planted_stories(company),
    )


class _ExtractWriter:
    """Writes tables where the contract's loader looks for them, replacing older runs."""

    def __init__(self, out_dir: Path, file_format: str) -> None:
        self.out_dir = out_dir
        self.file_format = file_format
        self.rows: dict[str, int] = dict.fromkeys(TABLES, 0)
        for table in TABLES:
            folder = out_dir / table
            folder.mkdir(parents=True, exist_ok=True)
            for old in (*folder.glob("*.parquet"), *folder.glob("*.csv")):
                old.unlink()

    def write(self, table: str, period: str | None, data: pa.Table) -> None:
        stem = table if period is None else f"{table}-{period}"
        path = self.out_dir / table / f"{stem}.{self.file_format}"
        if self.file_format == "parquet":
            warehouse_schema = pa.schema(
                pa.field(f.name, pa.decimal128(18, 6)) if pa.types.is_decimal(f.type) else f
                for f in data.schema
            )
            pq.write_table(data.cast(warehouse_schema), path)
        else:
            pa_csv.write_csv(data, path)
        self.rows[table] += data.num_rows
