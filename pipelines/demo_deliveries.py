"""Deliveries of the demo ERP over time, for the incremental tests and the benchmark:
the landing folder as it stood before a month closed, that month's delivery, and a
corrected re-delivery of an old month. Demo files are named `<table>-YYYY-MM.<ext>`
(pipelines/demo/erp.py); the dimension files carry no month and land first."""

from __future__ import annotations

import os
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pandas as pd

from pipelines.demo.erp import DemoSummary


def month_of(file: Path) -> str:
    """The YYYY-MM in a demo file's name, or '' for a dimension file."""
    found = re.search(r"[0-9]{4}-[0-9]{2}", file.name)
    return found.group() if found else ""


def land_before(demo: DemoSummary, landing: Path, month: str) -> None:
    """The landing folder before `month` closed: every file of earlier months, and the
    shipments of earlier invoices that shipped in `month` (its shipments file lands
    early with just those, or the earlier months would not match their ledger)."""
    for file in sorted(demo.out_dir.rglob("*.parquet")):
        if month_of(file) < month:
            destination = landing / file.relative_to(demo.out_dir)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, destination)
    shipments = pd.read_parquet(demo.out_dir / "shipments" / f"shipments-{month}.parquet")
    invoices = pd.read_parquet(demo.out_dir / "invoices" / f"invoices-{month}.parquet")
    shipments[~shipments["invoice_id"].isin(invoices["invoice_id"])].to_parquet(
        landing / "shipments" / f"shipments-{month}.parquet", index=False
    )


def deliver(demo: DemoSummary, landing: Path, month: str) -> None:
    """The files of `month` and later (the month now open) land, newer than the rest."""
    for file in sorted(demo.out_dir.rglob("*.parquet")):
        if month_of(file) >= month:
            destination = landing / file.relative_to(demo.out_dir)
            shutil.copy2(file, destination)
            os.utime(destination)


def correct_month(landing: Path, month: str) -> None:
    """What an ERP re-delivers after fixing a month, each file rewritten in place:
    three lines sold one more unit, one line of a multi-line invoice gone (one that was
    never returned, or a later month's return would lose its line), a payment gone, and
    one cost pool restated 10% higher."""
    lines_file = landing / "invoice_lines" / f"invoice_lines-{month}.parquet"
    lines = pd.read_parquet(lines_file)
    returned = pd.read_parquet(landing / "returns").set_index(["invoice_id", "line_number"]).index
    multi_line = lines.groupby("invoice_id")["line_number"].transform("count") > 1
    never_returned = ~lines.set_index(["invoice_id", "line_number"]).index.isin(returned)
    dropped = lines[multi_line & never_returned].index[-1]
    lines.loc[lines.index[:3], "quantity"] += 1
    lines.drop(index=dropped).to_parquet(lines_file, index=False)

    payments_file = landing / "payments" / f"payments-{month}.parquet"
    pd.read_parquet(payments_file).iloc[1:].to_parquet(payments_file, index=False)

    pools_file = landing / "cost_pools" / f"cost_pools-{month}.parquet"
    pools = pd.read_parquet(pools_file)
    restated = pools["amount"].iloc[0] * Decimal("1.1")
    pools.loc[pools.index[0], "amount"] = restated.quantize(Decimal("0.01"))
    pools.to_parquet(pools_file, index=False)
    for file in (lines_file, payments_file, pools_file):
        os.utime(file)
