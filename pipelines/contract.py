"""The ERP extract contract, version 1 (../shared/CONTRACT.md), as data.

One source of truth for the loader, the demo ERP and the data-quality suites:
column names, types, nullability, keys, foreign keys and value domains.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.settings import REPO_ROOT
from pipelines.sql import quote_literal

CONTRACT_VERSION = 1

# Contract types -> warehouse (DuckDB) types. Decimals carry 6 places: the loader
# rejects a value with more precision instead of rounding it silently.
WAREHOUSE_TYPES = {
    "text": "varchar",
    "date": "date",
    "timestamp": "timestamp",
    "integer": "bigint",
    "decimal": "decimal(18, 6)",
    "boolean": "boolean",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = False
    domain: tuple[str, ...] | None = None  # allowed values, for text columns

    @property
    def warehouse_type(self) -> str:
        return WAREHOUSE_TYPES[self.type]


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    table: str
    table_columns: tuple[str, ...]


@dataclass(frozen=True)
class PeriodSource:
    """Where a record's period (a calendar month, YYYY-MM) comes from.

    Without `via`, `column` is a date or timestamp (its month) or a YYYY-MM text.
    With `via`, `column` is a foreign key to that table, and the record takes the
    period of the row it points to: an invoice line belongs to its invoice's month.
    """

    column: str
    via: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    # SQL predicates (over typed columns) every row must satisfy, with the column
    # they blame and the reason written to quarantine.
    row_rules: tuple[tuple[str, str, str], ...] = field(default=())
    # Facts are delivered one file per month; dimensions in one file.
    date_column: str | None = None
    # The month a record belongs to, for loading one period at a time; None for
    # dimensions, which are always loaded whole.
    period_source: PeriodSource | None = None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _fk(column: str, table: str, table_column: str | None = None) -> ForeignKey:
    return ForeignKey((column,), table, (table_column or column,))


# A calendar month, YYYY-MM, as a regular expression (DuckDB and Python alike).
PERIOD_PATTERN = "[0-9]{4}-(0[1-9]|1[0-2])"

_PERIOD_RULE = (
    f"regexp_full_match(period, {quote_literal(PERIOD_PATTERN)})",
    "period",
    "period must be written YYYY-MM",
)

ORDER_CHANNELS = ("web", "edi", "phone", "email", "fax", "rep")
MANUAL_ORDER_CHANNELS = ("phone", "email", "fax", "rep")
SHIP_METHODS = ("standard", "expedited", "will_call")
DISPOSITIONS = ("restock", "scrap", "keep")
PAYMENT_KINDS = ("payment", "write_off")
CONTACT_CHANNELS = ("phone", "email", "chat", "web")
ACTIVITY_KINDS = ("visit", "call", "quote")
POLICIES = (
    "no_discounts",
    "min_order_value",
    "charge_freight",
    "charge_expedite",
    "restocking_fee",
)
GL_ACCOUNTS = ("net_revenue", "cogs", "freight_cost")
# The drivers' one home, which the dbt models and macros read too (as the seed cost_drivers).
COST_DRIVERS_SEED = REPO_ROOT / "dbt_project" / "seeds" / "cost_drivers.csv"


def read_cost_drivers(seed: Path = COST_DRIVERS_SEED) -> tuple[str, ...]:
    """The drivers of METHOD.md, "Cost pools and drivers", in the seed's sort_order."""
    with seed.open(newline="") as rows:
        drivers = sorted(csv.DictReader(rows), key=lambda row: int(row["sort_order"]))
    return tuple(row["driver"] for row in drivers)


DRIVERS = read_cost_drivers()

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "customers",
            (
                Column("customer_id", "text"),
                Column("customer_name", "text"),
                Column("industry", "text", True),
                Column("region", "text", True),
                Column("created_date", "date", True),
                Column("sales_rep_id", "text", True),
                Column("employee_count", "integer", True),
                Column("est_annual_spend", "decimal", True),
                Column("acquisition_channel", "text", True),
            ),
            key=("customer_id",),
        ),
        Table(
            "products",
            (
                Column("sku", "text"),
                Column("product_name", "text"),
                Column("product_family", "text"),
                Column("brand", "text", True),
                Column("category", "text", True),
                Column("unit_weight_kg", "decimal"),
                Column("list_price", "decimal"),
                Column("standard_cost", "decimal"),
            ),
            key=("sku",),
        ),
        Table(
            "invoices",
            (
                Column("invoice_id", "text"),
                Column("customer_id", "text"),
                Column("order_date", "date"),
                Column("invoice_date", "date"),
                Column("sales_rep_id", "text", True),
                Column("order_channel", "text", domain=ORDER_CHANNELS),
                Column("ship_method", "text", domain=SHIP_METHODS),
                Column("freight_charged", "decimal"),
                Column("expedite_charged", "decimal"),
                Column("payment_terms_days", "integer"),
                Column("currency", "text"),
            ),
            key=("invoice_id",),
            foreign_keys=(_fk("customer_id", "customers"),),
            date_column="invoice_date",
            period_source=PeriodSource("invoice_date"),
        ),
        Table(
            "invoice_lines",
            (
                Column("invoice_id", "text"),
                Column("line_number", "integer"),
                Column("sku", "text"),
                Column("quantity", "decimal"),
                Column("unit_list_price", "decimal"),
                Column("unit_price", "decimal"),
                Column("discount_code", "text", True),
                Column("unit_cost", "decimal", True),
                Column("warehouse_id", "text", True),
                Column("backordered", "boolean"),
            ),
            key=("invoice_id", "line_number"),
            foreign_keys=(_fk("invoice_id", "invoices"), _fk("sku", "products")),
            row_rules=(("quantity > 0", "quantity", "quantity must be above zero"),),
            period_source=PeriodSource("invoice_id", via="invoices"),
        ),
        Table(
            "shipments",
            (
                Column("shipment_id", "text"),
                Column("invoice_id", "text"),
                Column("carrier", "text", True),
                Column("ship_date", "date"),
                Column("weight_kg", "decimal", True),
                Column("freight_cost", "decimal"),
            ),
            key=("shipment_id",),
            foreign_keys=(_fk("invoice_id", "invoices"),),
            date_column="ship_date",
            # The P&L puts freight in the invoice's month, not the ship date's.
            period_source=PeriodSource("invoice_id", via="invoices"),
        ),
        Table(
            "returns",
            (
                Column("return_id", "text"),
                Column("invoice_id", "text"),
                Column("line_number", "integer"),
                Column("return_date", "date"),
                Column("quantity", "decimal"),
                Column("credit_amount", "decimal"),
                Column("reason_code", "text", True),
                Column("disposition", "text", domain=DISPOSITIONS),
                Column("restocking_fee_charged", "decimal"),
            ),
            key=("return_id",),
            foreign_keys=(
                ForeignKey(
                    ("invoice_id", "line_number"), "invoice_lines", ("invoice_id", "line_number")
                ),
            ),
            row_rules=(("quantity > 0", "quantity", "quantity must be above zero"),),
            date_column="return_date",
            period_source=PeriodSource("return_date"),
        ),
        Table(
            "payments",
            (
                Column("payment_id", "text"),
                Column("invoice_id", "text"),
                Column("payment_date", "date"),
                Column("amount", "decimal"),
                Column("kind", "text", domain=PAYMENT_KINDS),
            ),
            key=("payment_id",),
            foreign_keys=(_fk("invoice_id", "invoices"),),
            date_column="payment_date",
            period_source=PeriodSource("payment_date"),
        ),
        Table(
            "service_contacts",
            (
                Column("contact_id", "text"),
                Column("customer_id", "text"),
                Column("contact_ts", "timestamp"),
                Column("channel", "text", domain=CONTACT_CHANNELS),
                Column("minutes", "decimal"),
                Column("reason_code", "text", True),
            ),
            key=("contact_id",),
            foreign_keys=(_fk("customer_id", "customers"),),
            date_column="contact_ts",
            period_source=PeriodSource("contact_ts"),
        ),
        Table(
            "sales_activities",
            (
                Column("activity_id", "text"),
                Column("customer_id", "text"),
                Column("rep_id", "text"),
                Column("activity_date", "date"),
                Column("kind", "text", domain=ACTIVITY_KINDS),
                Column("minutes", "decimal"),
            ),
            key=("activity_id",),
            foreign_keys=(_fk("customer_id", "customers"),),
            date_column="activity_date",
            period_source=PeriodSource("activity_date"),
        ),
        Table(
            "cost_pools",
            (
                Column("period", "text"),
                Column("pool", "text"),
                Column("amount", "decimal"),
                Column("driver", "text", domain=DRIVERS),
                Column("variable_share", "decimal"),
                Column("capacity_units", "decimal", True),
            ),
            key=("period", "pool"),
            row_rules=(
                _PERIOD_RULE,
                (
                    "variable_share between 0 and 1",
                    "variable_share",
                    "variable_share must be between 0 and 1",
                ),
            ),
            period_source=PeriodSource("period"),
        ),
        Table(
            "policy_overrides",
            (
                Column("override_id", "text"),
                Column("invoice_id", "text"),
                Column("rep_id", "text"),
                Column("policy", "text", domain=POLICIES),
                Column("override_date", "date"),
                Column("reason", "text", True),
            ),
            key=("override_id",),
            foreign_keys=(_fk("invoice_id", "invoices"),),
            date_column="override_date",
            period_source=PeriodSource("override_date"),
        ),
        Table(
            "gl_summary",
            (
                Column("period", "text"),
                Column("account", "text", domain=GL_ACCOUNTS),
                Column("amount", "decimal"),
            ),
            key=("period", "account"),
            row_rules=(_PERIOD_RULE,),
            period_source=PeriodSource("period"),
        ),
    )
}

# Loading order: a table is loaded after the tables its foreign keys point to.
LOAD_ORDER = (
    "customers",
    "products",
    "cost_pools",
    "gl_summary",
    "invoices",
    "invoice_lines",
    "shipments",
    "returns",
    "payments",
    "service_contacts",
    "sales_activities",
    "policy_overrides",
)

# The tables loaded one period at a time, in loading order.
PERIOD_TABLES = tuple(name for name in LOAD_ORDER if TABLES[name].period_source is not None)
# Those whose records name their period themselves. The others (invoice lines,
# shipments) take their invoice's, so their periods are among the invoices'.
OWN_PERIOD_TABLES = tuple(name for name in PERIOD_TABLES if TABLES[name].period_source.via is None)
