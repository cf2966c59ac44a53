"""The small tables the suites validate, read from the warehouse by set-based SQL.

Great Expectations validates pandas frames, so nothing line-level is loaded: the
reconciliations (pools to the cent, the net-profit identity, the ledger) are read from
their one home, the dbt models of the schema `audit`; the 10-million-row P&L is scanned
once by DuckDB into one row per period (row counts, null components), and the pools
come as one row per pool and period. Every table here has at most a few thousand rows
whatever the size of the warehouse; its key columns name the row in every failure
message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import duckdb
import pandas as pd

from pipelines.contract import TABLES, Table
from pipelines.sql import quote_identifier, quote_literal

# Columns the loader adds to every raw table: where each record came from.
LINEAGE_COLUMNS = {"_source_file": "VARCHAR", "_source_row": "BIGINT"}
# ... and to the tables with a period: the month a period load replaces.
PERIOD_COLUMN = {"_period": "VARCHAR"}

# The money components of a P&L row (MARTS.md), net profit last.
PNL_COMPONENTS = (
    "gross_revenue",
    "discount",
    "net_revenue",
    "freight_revenue",
    "expedite_revenue",
    "restocking_fee_revenue",
    "cogs",
    "freight_cost",
    "pool_cost_total",
    "pool_cost_variable",
    "pool_cost_fixed",
    "carrying_cost",
    "bad_debt",
    "net_profit",
)

# The extracts whose records are money the P&L must carry or be held against, and the
# column that names a record of each: a quarantined record of these is an error,
# whatever the quarantine share (the check extracts_money_records_loaded).
MONEY_TABLES = {"cost_pools": "pool", "gl_summary": "account"}


@dataclass(frozen=True)
class AuditTable:
    name: str
    keys: tuple[str, ...]
    title: str
    frame: pd.DataFrame
    # Set when the warehouse could not give this table (a missing relation or column):
    # every check on it then fails with this message instead of the audit crashing.
    error: str | None = None


class _Warehouse:
    """The queries several audit tables share, each run once."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection = connection

    @cached_property
    def closed_periods(self) -> list[str]:
        return [period for (period,) in _rows(self.connection, _CLOSED_PERIODS)]

    @cached_property
    def pnl(self) -> pd.DataFrame:
        return _frame(self.connection, _pnl_by_period_sql())

    @cached_property
    def raw_columns(self) -> dict[str, dict[str, str]]:
        return _raw_columns(self.connection)

    @cached_property
    def values_and_loaded(self) -> tuple[pd.DataFrame, dict[str, int]]:
        return _extract_values(self.connection, self.raw_columns)


_TABLES: tuple[tuple[str, tuple[str, ...], str, Callable[[_Warehouse], pd.DataFrame]], ...] = (
    (
        "pool_allocations",
        ("period", "pool"),
        "Pools by period: the amount and where it went",
        lambda w: _frame(w.connection, _POOL_ALLOCATIONS),
    ),
    (
        "pool_costs_by_period",
        ("period",),
        "Pool cost carried by the P&L rows, by period",
        lambda w: _frame(w.connection, _POOL_COSTS_BY_PERIOD),
    ),
    (
        "pnl_by_period",
        ("period",),
        "P&L rows by period",
        lambda w: _pnl_periods(w.connection, w.pnl, w.closed_periods),
    ),
    (
        "pnl_row_counts",
        ("period", "row_kind"),
        "P&L rows against staged documents",
        lambda w: _pnl_row_counts(w.connection, w.pnl, w.closed_periods),
    ),
    (
        "pnl_components",
        ("component",),
        "P&L components present on every row",
        lambda w: _pnl_components(w.pnl),
    ),
    (
        "ledger_by_period",
        ("period", "account"),
        "P&L against gl_summary",
        lambda w: _frame(w.connection, _LEDGER),
    ),
    (
        "extract_columns",
        ("table_name", "column_name"),
        "Raw tables against the contract",
        lambda w: _extract_columns(w.raw_columns),
    ),
    (
        "extract_constraints",
        ("table_name", "constraint_name"),
        "Keys and rules of the raw tables",
        lambda w: _extract_constraints(w.connection, w.raw_columns),
    ),
    (
        "extract_values",
        ("table_name", "column_name"),
        "Required values and domains of the raw tables",
        lambda w: w.values_and_loaded[0],
    ),
    (
        "extract_quarantine",
        ("table_name",),
        "Quarantined records by table",
        lambda w: _extract_quarantine(w.connection, w.values_and_loaded[1]),
    ),
    (
        "money_quarantine",
        ("table_name", "source_file", "source_row"),
        "Cost pool and ledger records in quarantine",
        lambda w: _money_quarantine(w.connection),
    ),
)


def read_audit_tables(connection: duckdb.DuckDBPyConnection) -> dict[str, AuditTable]:
    """Every table the suites validate, by name. `connection` may be read-only."""
    warehouse = _Warehouse(connection)
    tables = {}
    for name, keys, title, build in _TABLES:
        try:
            tables[name] = AuditTable(name, keys, title, build(warehouse))
        except duckdb.Error as error:
            message = str(error).splitlines()[0]
            tables[name] = AuditTable(name, keys, title, pd.DataFrame(), error=message)
    return tables


# --- allocation -----------------------------------------------------------------------

_CLOSED_PERIODS = "select distinct period from raw.cost_pools order by period"

# The conservation of each pool is audit.audit_pool_conservation's (its one home, a dbt
# model: the shares summed from the audit trail view, exactly in decimals); this adds
# the pool's rate and its history for the rate checks. Summing the audit trail view is
# the audit's largest cost (10M P&L rows: ~130M shares, ~15 s), paid once, in dbt.
_POOL_ALLOCATIONS = """
with
conserved as (
    select period, pool, driver, amount, allocated, unallocated, unused_capacity, shared,
        off_by, is_conserved, negative_shares, negative_total
    from audit.audit_pool_conservation
),
rated as (
    select period, pool, driver as rated_driver, amount as rated_amount, units_used,
        capacity_units, rate
    from intermediate.int_pool_rates_computed
),
history as (
    select
        later.period,
        later.pool,
        median(earlier.rate) as prior_median_rate,
        count(earlier.rate) as prior_periods
    from rated as later
    left join rated as earlier on earlier.pool = later.pool and earlier.period < later.period
    group by later.period, later.pool
),
-- Every rated pool is a pool of the ERP, so it has its row in `conserved`.
joined as (
    select
        conserved.*,
        coalesce(conserved.driver, rated.rated_driver) as shown_driver,
        rated.rated_amount,
        rated.rate,
        rated.units_used,
        rated.capacity_units
    from conserved
    left join rated using (period, pool)
)
select
    joined.period,
    joined.pool,
    joined.shown_driver as driver,
    cast(joined.amount as double) as amount,
    cast(joined.allocated as double) as allocated,
    cast(joined.unallocated as double) as unallocated,
    cast(joined.unused_capacity as double) as unused_capacity,
    cast(joined.shared as double) as shared,
    cast(joined.off_by as double) as off_by,
    joined.is_conserved,
    joined.rate,
    joined.units_used as driver_units,
    joined.capacity_units,
    -- units used beyond the stated capacity (null without one). Units used are a double
    -- sum of split driver units (1/3 + 1/3 + 1/3), so they are compared at the 6 places
    -- of the raw decimals: a capacity equal to the units used is not short by 1e-13.
    round(joined.units_used, 6) - joined.capacity_units as capacity_shortfall,
    cast(joined.rated_amount as double) as rated_amount,
    cast(joined.negative_shares as bigint) as negative_shares,
    cast(joined.negative_total as double) as negative_total,
    history.prior_median_rate,
    cast(coalesce(history.prior_periods, 0) as bigint) as prior_periods,
    joined.rate / nullif(history.prior_median_rate, 0) as rate_ratio
from joined
left join history using (period, pool)
order by joined.period, joined.pool
"""

# audit.audit_pnl_identity reconciles each period's pool cost on the P&L rows to its pools.
_POOL_COSTS_BY_PERIOD = """
select
    period,
    cast(pools as bigint) as pools,
    cast(pools_amount as double) as pools_amount,
    cast(pnl_pool_cost as double) as pnl_pool_cost,
    cast(pool_cost_off_by as double) as off_by,
    carries_pool_costs
from audit.audit_pnl_identity
order by period
"""


# --- the P&L: one scan of the fact ---------------------------------------------------


def _pnl_by_period_sql() -> str:
    # The identity breaks are audit.audit_pnl_identity's (a null component makes `<>`
    # null, so such rows are not counted there: they are the components check's finding,
    # and a sentence should name one cause).
    nulls = ",\n    ".join(
        f"count(*) filter (where {name} is null) as nulls_{name},\n"
        f"    min(row_id) filter (where {name} is null) as null_example_{name}"
        for name in PNL_COMPONENTS
    )
    return f"""
select
    period,
    count(*) as rows,
    count(*) - count(distinct row_id) as duplicate_row_ids,
    count(*) filter (where row_kind = 'invoice') as invoice_rows,
    count(*) filter (where row_kind = 'return') as return_rows,
    {nulls}
from marts.fct_invoice_line_pnl
group by period
order by period
"""


# The net-profit identity and the pool-cost split are reconciled once, in dbt.
_IDENTITY_BY_PERIOD = """
select
    period,
    cast(identity_breaks as bigint) as identity_breaks,
    cast(identity_worst_gap as double) as identity_worst_gap,
    identity_example,
    cast(split_breaks as bigint) as split_breaks,
    split_example
from audit.audit_pnl_identity
"""


def _pnl_periods(
    connection: duckdb.DuckDBPyConnection, pnl: pd.DataFrame, closed: list[str]
) -> pd.DataFrame:
    columns = ["period", "rows", "invoice_rows", "return_rows", "duplicate_row_ids"]
    identity = _frame(connection, _IDENTITY_BY_PERIOD)
    frame = pnl[columns].merge(identity, how="left", on="period")
    # audit_pnl_identity has every period of the P&L (it groups the same table).
    frame["identity_breaks"] = frame["identity_breaks"].fillna(0).astype("int64")
    frame["split_breaks"] = frame["split_breaks"].fillna(0).astype("int64")
    # Periods are closed when they have cost pools (METHOD.md, "Periods").
    frame["closed"] = frame["period"].isin(closed)
    return frame.reset_index(drop=True)


_STAGED_COUNTS = """
with closed as (select distinct period from raw.cost_pools)
select invoices.period, 'invoice' as row_kind, count(*) as staged_rows
from staging.stg_erp__invoice_lines as lines
inner join staging.stg_erp__invoices as invoices on lines.invoice_id = invoices.invoice_id
where invoices.period in (select period from closed)
group by invoices.period
union all
select period, 'return' as row_kind, count(*) as staged_rows
from staging.stg_erp__returns
where period in (select period from closed)
group by period
"""


def _pnl_row_counts(
    connection: duckdb.DuckDBPyConnection, pnl: pd.DataFrame, closed: list[str]
) -> pd.DataFrame:
    staged = _frame(connection, _STAGED_COUNTS)
    periods = sorted(set(closed) | set(pnl["period"]))
    spine = pd.DataFrame(
        [(period, kind) for period in periods for kind in ("invoice", "return")],
        columns=["period", "row_kind"],
    )
    on_pnl = pd.concat(
        [
            pnl[["period", "invoice_rows"]]
            .rename(columns={"invoice_rows": "pnl_rows"})
            .assign(row_kind="invoice"),
            pnl[["period", "return_rows"]]
            .rename(columns={"return_rows": "pnl_rows"})
            .assign(row_kind="return"),
        ]
    )
    frame = spine.merge(staged, how="left", on=["period", "row_kind"]).merge(
        on_pnl, how="left", on=["period", "row_kind"]
    )
    frame["staged_rows"] = frame["staged_rows"].fillna(0).astype("int64")
    frame["pnl_rows"] = frame["pnl_rows"].fillna(0).astype("int64")
    frame["missing"] = frame["staged_rows"] - frame["pnl_rows"]
    frame["staged_label"] = frame["row_kind"].map({"invoice": "invoice lines", "return": "returns"})
    return frame


def _pnl_components(pnl: pd.DataFrame) -> pd.DataFrame:
    total_rows = int(pnl["rows"].sum())
    records = []
    for name in PNL_COMPONENTS:
        examples = pnl[f"null_example_{name}"].dropna()
        records.append(
            {
                "component": name,
                "rows": total_rows,
                "nulls": int(pnl[f"nulls_{name}"].sum()),
                "null_example": str(examples.min()) if len(examples) else None,
            }
        )
    return pd.DataFrame.from_records(
        records, columns=["component", "rows", "nulls", "null_example"]
    )


# --- ledger ---------------------------------------------------------------------------


# audit.audit_ledger_reconciliation holds each closed period's accounts against the
# ledger, with the tolerance var('gl_tolerance') it was checked with (the one setting).
_LEDGER = """
select
    period,
    account,
    cast(pnl_amount as double) as pnl_amount,
    cast(ledger_amount as double) as ledger_amount,
    cast(difference as double) as difference,
    cast(relative_difference as double) as relative_difference,
    cast(gl_tolerance as double) as gl_tolerance,
    is_reconciled
from audit.audit_ledger_reconciliation
order by period, account
"""


# --- extracts -------------------------------------------------------------------------


def _raw_columns(connection: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """table -> column -> DuckDB type, for the raw tables that exist."""
    present: dict[str, dict[str, str]] = {}
    for table, column, data_type in _rows(
        connection,
        """
        select table_name, column_name, data_type
        from information_schema.columns
        where table_schema = 'raw' and table_name <> 'quarantine'
        order by table_name, ordinal_position
        """,
    ):
        present.setdefault(table, {})[column] = data_type
    return present


def _normal_type(data_type: str) -> str:
    return data_type.upper().replace(" ", "")


def _extract_columns(present: dict[str, dict[str, str]]) -> pd.DataFrame:
    records = []
    for table in TABLES.values():
        expected = {c.name: c.warehouse_type for c in table.columns} | LINEAGE_COLUMNS
        if table.period_source is not None:
            expected |= PERIOD_COLUMN
        actual = present.get(table.name, {})
        for column in list(expected) + [c for c in actual if c not in expected]:
            records.append(
                {
                    "table_name": table.name,
                    "column_name": column,
                    "contract_type": _normal_type(expected[column]) if column in expected else None,
                    "warehouse_type": _normal_type(actual[column]) if column in actual else None,
                }
            )
    return pd.DataFrame.from_records(
        records, columns=["table_name", "column_name", "contract_type", "warehouse_type"]
    )


def _column_list(columns: tuple[str, ...]) -> str:
    return ", ".join(quote_identifier(c) for c in columns)


def _extract_constraints(
    connection: duckdb.DuckDBPyConnection, present: dict[str, dict[str, str]]
) -> pd.DataFrame:
    """One row per primary key, foreign key and row rule of every raw table."""
    records = []
    for table in TABLES.values():
        for constraint in _constraints(table):
            if not all(
                column in present.get(table_name, {}) for table_name, column in constraint.needs
            ):
                # A missing table or column is the shape check's finding, not this one's.
                continue
            rows, violations, example = _rows(connection, constraint.sql)[0]
            records.append(
                {
                    "table_name": table.name,
                    "constraint_name": constraint.name,
                    "rows": int(rows),
                    "violations": int(violations),
                    "example": None if example is None else str(example),
                }
            )
    return pd.DataFrame.from_records(
        records, columns=["table_name", "constraint_name", "rows", "violations", "example"]
    )


@dataclass(frozen=True)
class _Constraint:
    name: str
    needs: tuple[tuple[str, str], ...]  # (table, column) that must exist to run the query
    sql: str  # -> rows, rows breaking it, an example value


def _constraints(table: Table) -> list[_Constraint]:
    raw = f"raw.{quote_identifier(table.name)}"
    key_text = " || ', ' || ".join(f"cast({quote_identifier(c)} as varchar)" for c in table.key)
    constraints = [
        _Constraint(
            f"primary key ({', '.join(table.key)})",
            tuple((table.name, c) for c in table.key),
            # Null keys are the required-values check's finding.
            f"""
            select (select count(*) from {raw}), coalesce(sum(copies), 0), min(key_text)
            from (
                select {key_text} as key_text, count(*) as copies
                from {raw} group by {_column_list(table.key)} having count(*) > 1
            )
            """,
        )
    ]
    for foreign_key in table.foreign_keys:
        pairs = list(zip(foreign_key.columns, foreign_key.table_columns, strict=True))
        join = " and ".join(
            f"parent.{quote_identifier(p)} = child.{quote_identifier(c)}" for c, p in pairs
        )
        child_text = " || ', ' || ".join(
            f"cast(child.{quote_identifier(c)} as varchar)" for c, _ in pairs
        )
        parent = f"raw.{quote_identifier(foreign_key.table)}"
        orphan = (
            " and ".join(f"child.{quote_identifier(c)} is not null" for c in foreign_key.columns)
            + f" and not exists (select 1 from {parent} as parent where {join})"
        )
        constraints.append(
            _Constraint(
                f"foreign key ({', '.join(foreign_key.columns)}) -> {foreign_key.table}",
                tuple((table.name, c) for c, _ in pairs)
                + tuple((foreign_key.table, p) for _, p in pairs),
                f"""
                select count(*), count(*) filter (where {orphan}),
                    min({child_text}) filter (where {orphan})
                from {raw} as child
                """,
            )
        )
    for predicate, column, reason in table.row_rules:
        broken = f"not coalesce(({predicate}), true)"
        constraints.append(
            _Constraint(
                f"rule: {reason}",
                ((table.name, column),),
                f"""
                select count(*), count(*) filter (where {broken}),
                    min(cast({quote_identifier(column)} as varchar)) filter (where {broken})
                from {raw}
                """,
            )
        )
    return constraints


def _extract_values(
    connection: duckdb.DuckDBPyConnection, present: dict[str, dict[str, str]]
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Nulls in required columns and values outside domains, one scan per table; also
    the number of records loaded per table."""
    records = []
    loaded: dict[str, int] = {}
    for table in TABLES.values():
        columns = [c for c in table.columns if c.name in present.get(table.name, {})]
        if table.name not in present:
            continue
        aggregates = ["count(*)"]
        for column in columns:
            name = quote_identifier(column.name)
            aggregates.append(f"count(*) filter (where {name} is null)")
            if column.domain:
                allowed = ", ".join(quote_literal(value) for value in column.domain)
                outside = f"{name} is not null and {name} not in ({allowed})"
                aggregates.append(f"count(*) filter (where {outside})")
                aggregates.append(f"min({name}) filter (where {outside})")
        sql = f"select {', '.join(aggregates)} from raw.{quote_identifier(table.name)}"
        result = list(_rows(connection, sql)[0])
        rows = int(result.pop(0))
        loaded[table.name] = rows
        for column in columns:
            nulls = int(result.pop(0))
            outside, example = (int(result.pop(0)), result.pop(0)) if column.domain else (0, None)
            records.append(
                {
                    "table_name": table.name,
                    "column_name": column.name,
                    "required": not column.nullable,
                    "rows": rows,
                    "nulls": nulls,
                    "domain": ", ".join(column.domain) if column.domain else None,
                    "outside_domain": outside,
                    "outside_example": example,
                }
            )
    frame = pd.DataFrame.from_records(
        records,
        columns=[
            "table_name",
            "column_name",
            "required",
            "rows",
            "nulls",
            "domain",
            "outside_domain",
            "outside_example",
        ],
    )
    frame["required"] = frame["required"].astype(bool)
    return frame, loaded


def _extract_quarantine(
    connection: duckdb.DuckDBPyConnection, loaded: dict[str, int]
) -> pd.DataFrame:
    has_quarantine = _rows(
        connection,
        "select count(*) from information_schema.tables "
        "where table_schema = 'raw' and table_name = 'quarantine'",
    )[0][0]
    quarantined: dict[str, int] = {}
    if has_quarantine:
        quarantined = {
            table: int(records)
            for table, records in _rows(
                connection,
                """
                select table_name, count(distinct (source_file, source_row))
                from raw.quarantine group by table_name
                """,
            )
        }
    records = []
    for name in TABLES:
        good, bad = loaded.get(name, 0), quarantined.get(name, 0)
        total = good + bad
        records.append(
            {
                "table_name": name,
                "loaded": good,
                "quarantined": bad,
                "records": total,
                "share": bad / total if total else 0.0,
            }
        )
    return pd.DataFrame.from_records(
        records, columns=["table_name", "loaded", "quarantined", "records", "share"]
    )


_MONEY_QUARANTINE_COLUMNS = [
    "table_name",
    "source_file",
    "source_row",
    "period",
    "item_kind",
    "item",
    "amount_text",
    "amount_shown",
    "reasons",
    "consequence",
    "loaded",
]

# One row per quarantined record (a record may have several problems, one quarantine
# row each). The record's own text names it: its period, pool or account, and amount.
_MONEY_QUARANTINE = """
select
    table_name,
    source_file,
    source_row,
    coalesce(max(period), max(json_extract_string(record_json, 'period'))) as period,
    max(json_extract_string(record_json, $item_column)) as item,
    max(json_extract_string(record_json, 'amount')) as amount_text,
    array_to_string(list_sort(list_distinct(list(reason))), '; ') as reasons
from raw.quarantine
where table_name = $table_name
group by table_name, source_file, source_row
order by source_file, source_row
"""


def _money_quarantine(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The quarantined records of cost_pools and gl_summary: money that entered the
    extracts and is on no P&L row (a pool) or held against none (a ledger amount)."""
    has_quarantine = _rows(
        connection,
        "select count(*) from information_schema.tables "
        "where table_schema = 'raw' and table_name = 'quarantine'",
    )[0][0]
    frames = []
    for table_name, item_column in MONEY_TABLES.items() if has_quarantine else ():
        frame = connection.execute(
            _MONEY_QUARANTINE, {"table_name": table_name, "item_column": item_column}
        ).df()
        frame["item_kind"] = item_column
        frame["consequence"] = (
            "is short of it" if table_name == "cost_pools" else "cannot be reconciled with it"
        )
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    frame = frame.reindex(columns=_MONEY_QUARANTINE_COLUMNS)
    amounts = pd.to_numeric(frame["amount_text"], errors="coerce")
    frame["amount_shown"] = [
        f"{amount:,.2f}" if pd.notna(amount) else repr(text) if isinstance(text, str) else "none"
        for amount, text in zip(amounts, frame["amount_text"], strict=True)
    ]
    frame["loaded"] = False
    return frame.astype({"loaded": bool})


# --- helpers --------------------------------------------------------------------------


def _rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return connection.execute(sql).fetchall()


def _frame(connection: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    return connection.execute(sql).df()
