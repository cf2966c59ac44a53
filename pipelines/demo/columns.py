"""Arrow columns and random draws that the demo's company, customers and orders share:
ids, labels, exact decimals, tables in the contract's column order, and draws of one
category per row.

Kept apart so that every table of the demo builds its columns one way, and so that the
modules that describe the company, its customers and their orders hold only that.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.contract import TABLES


def draw_rows(rng: np.random.Generator, cdf: np.ndarray) -> np.ndarray:
    """One category per row of a matrix of cumulative probabilities."""
    draw = rng.random(len(cdf))
    return np.minimum((draw[:, None] > cdf).sum(axis=1), cdf.shape[1] - 1)


def draw_by_customer(rng: np.random.Generator, cdf: np.ndarray, customer: np.ndarray) -> np.ndarray:
    """One category per row of `customer`, from that customer's row of cumulative
    probabilities: one search in the rows laid end to end, customer i's row shifted by
    i, without a lines x categories matrix (420,000 x 35 in a month of 58,000
    customers)."""
    categories = cdf.shape[1]
    shifted = (cdf + np.arange(len(cdf))[:, None]).ravel()
    found = np.searchsorted(shifted, customer + rng.random(len(customer)), side="right")
    return np.clip(found - customer * categories, 0, categories - 1)


def sum_by_invoice(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    # Lines are stored invoice by invoice and every invoice has at least one line.
    if len(starts) == 0:
        return values[:0]
    return np.add.reduceat(values, starts)


def id_column(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def invoice_ids(numbers: np.ndarray) -> pa.Array:
    return id_column("INV", numbers, 8)


def customer_ids(numbers: np.ndarray) -> pa.Array:
    return id_column("C", np.asarray(numbers) + 1, 6)


def rep_ids(numbers: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    ids = id_column("REP", np.asarray(numbers) + 1, 2)
    return ids if valid is None else pc.if_else(pa.array(valid), ids, pa.scalar(None, pa.string()))


def label_column(values: tuple[str, ...], index: np.ndarray) -> pa.Array:
    """Text column from category numbers; -1 is null."""
    index = np.asarray(index, dtype=np.int64)
    return pc.take(pa.array(values), pa.array(index, mask=index < 0))


def decimal_column(units: np.ndarray, places: int, valid: np.ndarray | None = None) -> pa.Array:
    """Exact decimal(18, places) from integer counts of 10**-places (cents, grams)."""
    units = np.ascontiguousarray(units, dtype=np.int64)
    # decimal128 is a little-endian 128-bit integer: the value, then its sign extension.
    words = np.column_stack([units, units >> 63]).ravel()
    validity = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(
        pa.decimal128(18, places), len(units), [validity, pa.py_buffer(words)]
    )


def arrow_table(name: str, **columns: pa.Array) -> pa.Table:
    """The contract's columns, in the contract's order."""
    expected = TABLES[name].column_names
    if list(columns) != expected:
        raise AssertionError(f"{name}: columns {list(columns)} differ from contract {expected}")
    return pa.table(columns)
