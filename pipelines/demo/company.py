"""Meridian Supply Co., the demo company: its catalogue (products, families, brands,
margins), its reps, its cost pools and its ledger, and the month by month run that
draws the customers' orders (orders.py) and books the pools and the ledger of every
closed month.

Kept apart from the customers and their orders: this is what stays the same whatever
the seed (one catalogue for every seed) and the only state carried from month to month
(the backlog and the id counters).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.contract import GL_ACCOUNTS
from pipelines.demo.columns import arrow_table, decimal_column
from pipelines.demo.customers import CATEGORY_MIX, build_customers
from pipelines.demo.orders import (
    EXPEDITED,
    IS_MANUAL_CHANNEL,
    RETURN_REASONS,
    Backlog,
    buying_activity,
    invoice_lines,
    invoice_lines_table,
    invoices,
    invoices_table,
    overrides_table,
    payments_table,
    price_freight_and_waivers,
    returns_table,
    sales_activities,
    schedule_payments,
    schedule_returns,
    schedule_shipments,
    service_contacts,
    shipments_table,
)
from pipelines.demo.stories import (
    BACKORDER_RATE,
    BACKORDERED_SKU,
    FAMILY_AFFINITIES,
    PLANTED_RETURNS,
    USUAL_BACKORDER_RATE,
)

# The extract was taken on this day of the open period.
OPEN_PERIOD_DAYS = 5

# code, product family, category, unit cost of a national brand (USD), unit weight
# (kg), typical quantity on an order line.
_FAMILIES = (
    ("GLS", "safety glasses", "safety", 3.20, 0.05, 12),
    ("GLV", "work gloves", "safety", 4.50, 0.15, 24),
    ("NTR", "nitrile gloves, box of 100", "safety", 7.00, 0.80, 10),
    ("HAT", "hard hat", "safety", 9.00, 0.45, 4),
    ("VST", "hi-vis vest", "safety", 5.50, 0.20, 6),
    ("EAR", "ear plugs, box of 200", "safety", 18.00, 0.60, 2),
    ("RSP", "N95 respirators, box of 20", "safety", 16.00, 0.40, 4),
    ("FAK", "first aid kit", "safety", 28.00, 2.00, 1),
    ("TWL", "paper towels, case", "janitorial", 24.00, 9.00, 4),
    ("BAG", "trash bags, case", "janitorial", 19.00, 6.50, 3),
    ("CLN", "cleaner concentrate, gallon", "janitorial", 11.00, 4.20, 4),
    ("MOP", "mop and bucket", "janitorial", 22.00, 3.00, 1),
    ("ABS", "absorbent pads, bale", "janitorial", 38.00, 7.50, 2),
    ("SCR", "wood screws, box of 100", "fasteners", 6.50, 1.10, 10),
    ("BLT", "hex bolts and nuts, box of 50", "fasteners", 9.00, 2.20, 6),
    ("ANC", "concrete anchors, box of 100", "fasteners", 12.00, 1.00, 4),
    ("TIE", "cable ties, bag of 100", "fasteners", 3.00, 0.20, 10),
    ("DRB", "drill bit set", "cutting", 18.00, 0.60, 2),
    ("SAW", "circular saw blade", "cutting", 14.00, 0.50, 3),
    ("DSC", "abrasive discs, pack of 25", "cutting", 21.00, 1.50, 3),
    ("TAP", "packing tape, case of 36", "packaging", 34.00, 6.00, 2),
    ("FLM", "stretch film roll", "packaging", 13.00, 2.70, 6),
    ("BOX", "corrugated boxes, bundle of 25", "packaging", 15.00, 8.00, 4),
    ("LED", "LED lamps, pack of 4", "electrical", 9.00, 0.40, 6),
    ("BAT", "AA batteries, pack of 24", "electrical", 12.00, 0.60, 4),
    ("EXT", "extension cord", "electrical", 16.00, 1.50, 2),
    ("FLS", "flashlight", "electrical", 11.00, 0.30, 2),
    ("WRN", "combination wrench set", "tools", 45.00, 3.50, 1),
    ("LAD", "step ladder", "tools", 95.00, 12.00, 1),
    ("TBX", "tool box", "tools", 38.00, 4.50, 1),
    ("LUB", "lubricant spray, case of 12", "maintenance", 42.00, 5.40, 1),
    ("SPL", "spill kit", "maintenance", 65.00, 9.00, 1),
    ("PNT", "marking paint, case of 12", "maintenance", 36.00, 7.00, 1),
    ("WLD", "welding rods, 5 kg", "maintenance", 28.00, 5.00, 2),
    ("FLT", "HVAC filters, case of 12", "maintenance", 48.00, 6.00, 2),
)
CATEGORIES = (
    "safety",
    "janitorial",
    "fasteners",
    "cutting",
    "packaging",
    "electrical",
    "tools",
    "maintenance",
)

# Brand tiers in the order a family lists its SKUs, premium first: a customer's
# tier preference picks positions within a family. Private label earns the most.
# Per tier: its brands (code, name), how many of them a family carries (one of),
# the unit cost relative to a national brand, and list price / cost.
_BRAND_TIERS = (
    ((("APX", "Apex"), ("SNT", "Sentinel"), ("IRC", "Ironclad")), (1,), 1.45, 1.72),
    (
        (("SMT", "Summit"), ("KST", "Keystone"), ("DUR", "Duraline"), ("NST", "Northstar")),
        (1, 2),
        1.0,
        1.48,
    ),
    ((("MSP", "Meridian Pro"),), (0, 1, 1), 0.62, 1.87),
    ((("VAL", "Valuline"), ("BSX", "Basix")), (1,), 0.72, 1.30),
)

# A case of five costs a little less per unit and sells at a volume price.
_CASE_UNITS, _CASE_COST_FACTOR, _CASE_PRICE_FACTOR = 5, 0.96, 0.92
_CATALOGUE_SEED = 2026

# pool, driver, cost per driver unit in the first closed month (USD), variable share.
# Rates rise 3% a year (wages, rent); amounts are rate x the month's units x noise.
_POOLS = (
    ("order_processing", "orders", 8.00, 0.55),
    ("manual_order_entry", "manual_orders", 14.00, 0.85),
    ("expediting", "expedited_orders", 30.00, 0.90),
    ("shipping_dock", "shipments", 9.00, 0.70),
    ("warehouse_picking", "invoice_lines", 3.50, 0.75),
    ("material_handling", "units", 0.10, 0.70),
    ("packing", "weight_kg", 0.15, 0.80),
    ("credit_and_collections", "revenue", 0.010, 0.40),
    ("returns_handling", "returns", 35.00, 0.80),
    ("returns_inspection", "return_units", 2.00, 0.80),
    ("customer_service", "service_minutes", 1.30, 0.50),
    ("helpdesk_tickets", "service_contacts", 3.00, 0.60),
    ("field_sales", "sales_minutes", 2.30, 0.30),
)

# Customer service is staffed for peaks: the minutes used are 75-85% of capacity.
_SERVICE_UTILISATION = (0.75, 0.85)


@dataclass
class _Catalogue:
    sku: list[str]
    product_name: list[str]
    product_family: list[str]
    brand: list[str]
    category: list[str]
    unit_weight_g: np.ndarray
    list_cents: np.ndarray
    cost_cents: np.ndarray
    typical_quantity: np.ndarray
    # a family's SKUs are contiguous, premium brands first
    family_start: np.ndarray
    family_size: np.ndarray
    family_mix: np.ndarray  # industry x family: how likely an order line is of that family
    backorder_rate: np.ndarray  # per SKU: share of its lines backordered
    planted_return_rate: np.ndarray  # per SKU: extra share of lines returned (stories)
    planted_reason: np.ndarray  # per SKU: reason of those extra returns, -1 = usual mix
    affinity_families: np.ndarray  # affinity x 2: family indexes of A and B


class Company:
    """Meridian Supply Co.: its catalogue, customers and reps, and the facts of each month.

    Facts dated after the month that caused them (shipments, returns, payments,
    waived restocking fees) wait in a backlog until their month is written; that and
    the id counters are the only state carried from month to month.
    """

    def __init__(
        self, seed: int, customer_count: int, periods: np.ndarray, occasional_share: float = 0.0
    ) -> None:
        self.seed = seed
        self.periods = periods
        self.occasional_share = occasional_share
        self.last_closed_index = len(periods) - 2
        setup = self.rng("setup")
        self.reps = int(np.clip(round(customer_count / 60), 10, 20))
        # One catalogue for every seed: the seed varies who the customers are and what
        # they order, not what the company sells or at which margin.
        self.catalogue = _build_catalogue(np.random.default_rng(_CATALOGUE_SEED))
        self.rep_override_rate = setup.uniform(0.03, 0.10, self.reps)
        reps_by_appetite = setup.permutation(self.reps)
        self.over_overriding_reps = np.sort(reps_by_appetite[:2])
        self.rep_override_rate[self.over_overriding_reps] = 0.45
        # Two other reps spend their days driving to accounts that buy almost nothing.
        self.tiny_account_visitors = np.sort(reps_by_appetite[2:4])
        self.customers = build_customers(setup, customer_count, self, periods[0])
        self.backlog = Backlog()
        self.next_id = dict.fromkeys(
            ("invoice", "shipment", "return", "payment", "contact", "activity", "override"), 1
        )

    def rng(self, stream: str, month_index: int = 0) -> np.random.Generator:
        # One generator per purpose and month: when one table draws more, the draws of
        # the others stay as they were.
        return np.random.default_rng((self.seed, zlib.crc32(stream.encode()), month_index))

    def take_ids(self, kind: str, count: int) -> np.ndarray:
        first = self.next_id[kind]
        self.next_id[kind] = first + count
        return np.arange(first, first + count, dtype=np.int64)

    def products_table(self) -> pa.Table:
        cat = self.catalogue
        return arrow_table(
            "products",
            sku=pa.array(cat.sku),
            product_name=pa.array(cat.product_name),
            product_family=pa.array(cat.product_family),
            brand=pa.array(cat.brand),
            category=pa.array(cat.category),
            unit_weight_kg=decimal_column(cat.unit_weight_g, 3),
            list_price=decimal_column(cat.list_cents, 2),
            standard_cost=decimal_column(cat.cost_cents, 2),
        )

    def month(self, month_index: int) -> dict[str, pa.Table]:
        """Every monthly table for one period: closed months get pools and a ledger."""
        period = self.periods[month_index]
        first_day = period.astype("datetime64[D]")
        is_open = month_index > self.last_closed_index
        if is_open:
            last_day = first_day + OPEN_PERIOD_DAYS - 1
        else:
            last_day = (period + 1).astype("datetime64[D]") - 1
        month_days = np.arange(first_day, (period + 1).astype("datetime64[D]"))
        business_days = month_days[np.is_busday(month_days) & (month_days <= last_day)]
        share_of_month = len(business_days) / np.is_busday(month_days).sum()

        activity = buying_activity(self, month_index) * share_of_month
        orders = invoices(self, month_index, activity, business_days)
        lines = invoice_lines(self, month_index, orders)
        price_freight_and_waivers(self, month_index, orders, lines)
        shipment_count = schedule_shipments(self, month_index, orders)
        schedule_returns(self, month_index, orders, lines)
        schedule_payments(self, month_index, orders)
        contacts = service_contacts(self, month_index, activity, business_days)
        activities = sales_activities(self, month_index, activity, business_days, share_of_month)

        returns = self.backlog.take("returns", last_day)
        tables = {
            "invoices": invoices_table(self, orders),
            "invoice_lines": invoice_lines_table(self, orders, lines),
            "shipments": shipments_table(self, self.backlog.take("shipments", last_day)),
            "returns": returns_table(self, returns),
            "payments": payments_table(self, self.backlog.take("payments", last_day)),
            "service_contacts": contacts,
            "sales_activities": activities,
            "policy_overrides": overrides_table(self, self.backlog.take("overrides", last_day)),
        }
        if not is_open:
            units = {
                "orders": len(orders["customer"]),
                "manual_orders": int(IS_MANUAL_CHANNEL[orders["channel"]].sum()),
                "expedited_orders": int((orders["ship_method"] == EXPEDITED).sum()),
                "shipments": shipment_count,
                "invoice_lines": len(lines["sku"]),
                "units": int(lines["quantity"].sum()),
                "weight_kg": float((lines["quantity"] * lines["unit_weight_g"]).sum()) / 1000,
                "revenue": float(lines["net_cents"].sum()) / 100,
                "returns": len(returns["quantity"]),
                "return_units": int(returns["quantity"].sum()),
                "service_minutes": float(pc.sum(contacts["minutes"]).as_py() or 0),
                "service_contacts": contacts.num_rows,
                "sales_minutes": float(pc.sum(activities["minutes"]).as_py() or 0),
            }
            tables["cost_pools"] = self._cost_pools(month_index, units)
            # The ledger books exactly what the documents say, by invoice date.
            ledger_cents = {
                "net_revenue": lines["net_cents"].sum(),
                "cogs": lines["cogs_cents"].sum(),
                "freight_cost": orders["freight_cost_cents"].sum(),
            }
            tables["gl_summary"] = arrow_table(
                "gl_summary",
                period=pa.array([str(period)] * len(GL_ACCOUNTS)),
                account=pa.array(GL_ACCOUNTS),
                amount=decimal_column(np.array([ledger_cents[a] for a in GL_ACCOUNTS]), 2),
            )
        return tables

    def _cost_pools(self, month_index: int, units: dict[str, float]) -> pa.Table:
        rng = self.rng("pools", month_index)
        inflation = 1.03 ** (month_index / 12)
        noise = rng.normal(1.0, 0.03, len(_POOLS))
        amounts, capacities = [], []
        for (_, driver, rate, _), pool_noise in zip(_POOLS, noise, strict=True):
            # A pool keeps its people when no work arrives: an idle month still costs.
            used = max(units[driver], 1.0)
            if driver == "service_minutes":
                capacity = round(used / rng.uniform(*_SERVICE_UTILISATION), 1)
                capacities.append(round(capacity * 10))
                used = capacity
            else:
                capacities.append(None)
            amounts.append(round(rate * inflation * used * pool_noise * 100))
        has_capacity = np.array([c is not None for c in capacities])
        return arrow_table(
            "cost_pools",
            period=pa.array([str(self.periods[month_index])] * len(_POOLS)),
            pool=pa.array([p[0] for p in _POOLS]),
            amount=decimal_column(np.array(amounts), 2),
            driver=pa.array([p[1] for p in _POOLS]),
            variable_share=decimal_column(np.array([round(p[3] * 100) for p in _POOLS]), 2),
            capacity_units=decimal_column(
                np.array([c or 0 for c in capacities]), 1, valid=has_capacity
            ),
        )


def _build_catalogue(rng: np.random.Generator) -> _Catalogue:
    rows: dict[str, list] = {
        key: []
        for key in ("sku", "name", "family", "brand", "category", "grams", "list", "cost", "qty")
    }
    family_start, family_size = [], []
    for code, family, category, national_cost, kg, typical_qty in _FAMILIES:
        family_start.append(len(rows["sku"]))
        for brands, carried, cost_factor, markup in _BRAND_TIERS:
            for chosen in rng.permutation(len(brands))[: rng.choice(carried)]:
                brand_code, brand = brands[chosen]

                unit_cost = national_cost * cost_factor * rng.uniform(0.9, 1.1)
                list_price = unit_cost * markup * rng.uniform(0.95, 1.05)
                grams = kg * 1000 * rng.uniform(0.9, 1.1)
                packs = [(1, 1.0, 1.0)]
                if rng.random() < 0.4:
                    packs.append((_CASE_UNITS, _CASE_COST_FACTOR, _CASE_PRICE_FACTOR))
                for units, pack_cost, pack_price in packs:
                    rows["sku"].append(f"{code}-{brand_code}-{units}")
                    case = f", case of {units}" if units > 1 else ""
                    rows["name"].append(f"{brand} {family}{case}")
                    rows["family"].append(family)
                    rows["brand"].append(brand)
                    rows["category"].append(category)
                    rows["grams"].append(max(1, round(grams * units)))
                    rows["cost"].append(round(unit_cost * units * pack_cost * 100))
                    rows["list"].append(round(list_price * units * pack_price * 100))
                    rows["qty"].append(max(1.0, typical_qty / units))
        family_size.append(len(rows["sku"]) - family_start[-1])

    category_of_family = np.array([CATEGORIES.index(f[2]) for f in _FAMILIES])
    family_popularity = rng.lognormal(0, 0.4, len(_FAMILIES))
    per_category = np.bincount(category_of_family, minlength=len(CATEGORIES))
    mix = CATEGORY_MIX[:, category_of_family] * family_popularity / per_category[category_of_family]
    sku_index = {sku: i for i, sku in enumerate(rows["sku"])}
    backorder_rate = np.full(len(rows["sku"]), USUAL_BACKORDER_RATE)
    backorder_rate[sku_index[BACKORDERED_SKU]] = BACKORDER_RATE
    planted_return_rate = np.zeros(len(rows["sku"]))
    planted_reason = np.full(len(rows["sku"]), -1, dtype=np.int64)
    for sku, (rate, reason) in PLANTED_RETURNS.items():
        planted_return_rate[sku_index[sku]] = rate
        if reason is not None:
            planted_reason[sku_index[sku]] = RETURN_REASONS.index(reason)
    family_names = [f[1] for f in _FAMILIES]
    return _Catalogue(
        sku=rows["sku"],
        product_name=rows["name"],
        product_family=rows["family"],
        brand=rows["brand"],
        category=rows["category"],
        unit_weight_g=np.array(rows["grams"], dtype=np.int64),
        list_cents=np.array(rows["list"], dtype=np.int64),
        cost_cents=np.array(rows["cost"], dtype=np.int64),
        typical_quantity=np.array(rows["qty"]),
        family_start=np.array(family_start, dtype=np.int64),
        family_size=np.array(family_size, dtype=np.int64),
        family_mix=mix / mix.sum(axis=1, keepdims=True),
        backorder_rate=backorder_rate,
        planted_return_rate=planted_return_rate,
        planted_reason=planted_reason,
        affinity_families=np.array(
            [[family_names.index(a), family_names.index(b)] for a, b in FAMILY_AFFINITIES]
        ),
    )
