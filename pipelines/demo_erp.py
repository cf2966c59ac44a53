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
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from pipelines.contract import (
    ACTIVITY_KINDS,
    CONTACT_CHANNELS,
    DISPOSITIONS,
    GL_ACCOUNTS,
    MANUAL_ORDER_CHANNELS,
    ORDER_CHANNELS,
    PAYMENT_KINDS,
    POLICIES,
    SHIP_METHODS,
    TABLES,
)


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
CURRENCY = "USD"
# The extract was taken on this day of the open period.
OPEN_PERIOD_DAYS = 5
# Expected invoice lines of an average customer in an average month, before
# new accounts, churn, growth and seasonality.
LINES_PER_CUSTOMER_MONTH = 8.0
MIN_CUSTOMERS = 50  # room for every planted story with customers to spare

_IS_MANUAL_CHANNEL = np.isin(ORDER_CHANNELS, MANUAL_ORDER_CHANNELS)
_STANDARD = SHIP_METHODS.index("standard")
_EXPEDITED = SHIP_METHODS.index("expedited")
_WILL_CALL = SHIP_METHODS.index("will_call")


# --- the catalogue -------------------------------------------------------------------

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
_CATEGORIES = (
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

# --- the desert portal's stories (METHOD.md, "The desert portal") --------------------

# Three vests a unit apart in list margin (5.87, 3.12 and 1.14 USD): their order by
# net profit per unit is the order a desert customer should see them in.
_PROFIT_SPREAD_FAMILY = "hi-vis vest"
# The least profitable vest is short 45% of the time (3% is usual), while the premium
# one, 4.73 USD a unit better, is in stock.
_BACKORDERED_SKU, _BACKORDERED_SIBLING, _BACKORDER_RATE = "VST-VAL-1", "VST-IRC-1", 0.45
_USUAL_BACKORDER_RATE = 0.03
# Per planted SKU: the extra share of its lines returned, and the reason those extra
# returns give (None: the usual reason mix). The valuline boxes weigh 7.9 kg and cost
# 10.22 USD: the trip back costs more than restocking recovers. The respirators'
# fit-test leaflet confuses buyers: about 12% of lines come back for it, against
# about 0.3% for the usual reason mix.
_PLANTED_RETURNS = {
    "BOX-BSX-1": (0.10, None),
    "RSP-SMT-1": (0.12, "unclear_instructions"),
}
_CHEAP_BULKY_SKU, _UNCLEAR_INSTRUCTIONS_SKU = "BOX-BSX-1", "RSP-SMT-1"
# Customers keep to an assortment: a customer buys the same families month after
# month, one family for every _LINES_PER_FAMILY_YEAR lines it expects a year, spread
# evenly (a family of it then misses a 12-month window with odds e^-12, 1 in 160,000),
# drawn by its industry's mix; the accounts expecting 420 lines a year or more, and the
# planted customers of the other stories, buy every family, by the mix. Without that,
# customers buy families at random, a family bought once a year looks lacking in one
# window and is bought the next months, and recommending the most popular families
# beats any basket model.
_LINES_PER_FAMILY_YEAR = 12.0
# New families come through affinities (A>B), bought one after the other:
# _AFFINITY_MEMBER_SHARE of the customers that do not buy everything belong to one,
# buy A from the start and take up B at a month spread evenly over
# _AFFINITY_ADOPTION_MONTHS months from _AFFINITY_ADOPTION_START (a year before the
# data): 1 in 8 of them in any 6 months.
# Nobody else buys B but the accounts that buy everything, so B is among the least
# popular families and the popularity baseline does not name it. Adopters put
# _AFFINITY_LINE_SHARE of their lines into B, so that B earns as much per buying
# customer as the dearest families (the score is confidence x that profit). A site
# that soaks up leaks keeps a spill kit for the day it is a spill; who changes lamps
# needs a ladder; maintenance crews that service machines take over the air handlers.
_FAMILY_AFFINITIES = (
    ("absorbent pads, bale", "spill kit"),
    ("LED lamps, pack of 4", "step ladder"),
    ("lubricant spray, case of 12", "HVAC filters, case of 12"),
)
_AFFINITY_MEMBER_SHARE, _AFFINITY_LINE_SHARE = 0.6, 0.2
_AFFINITY_ADOPTION_MONTHS, _AFFINITY_ADOPTION_START = 48, -12

# --- the customers -------------------------------------------------------------------

_INDUSTRIES = (
    "manufacturing",
    "construction",
    "healthcare",
    "education",
    "hospitality",
    "government",
    "automotive",
    "food_processing",
    "logistics",
    "property_management",
)
# How much each industry buys of each category (columns in _CATEGORIES order).
_CATEGORY_MIX = np.array(
    [
        [3.0, 1.0, 3.0, 3.0, 2.0, 1.0, 2.0, 3.0],
        [4.0, 0.5, 4.0, 3.0, 0.5, 2.0, 3.0, 1.0],
        [4.0, 5.0, 0.3, 0.1, 1.0, 1.0, 0.3, 1.0],
        [1.0, 5.0, 0.5, 0.2, 1.0, 2.0, 0.5, 1.5],
        [1.5, 5.0, 0.3, 0.1, 1.5, 1.5, 0.3, 1.0],
        [2.0, 3.0, 1.5, 0.5, 1.0, 2.0, 1.0, 2.0],
        [2.0, 1.0, 2.0, 2.0, 1.0, 1.0, 3.0, 4.0],
        [4.0, 4.0, 0.5, 0.5, 3.0, 1.0, 0.5, 2.0],
        [2.0, 1.5, 1.0, 0.5, 5.0, 1.0, 1.0, 2.0],
        [1.0, 4.0, 1.0, 0.5, 0.5, 3.0, 2.0, 3.0],
    ]
)
_NAME_PLACES = (
    "Northwind", "Riverside", "Granite", "Lakeshore", "Bayview", "Oakridge", "Prairie",
    "Harbor", "Cedar", "Pinecrest", "Silverline", "Redstone", "Bluewater", "Ironwood",
    "Maple", "Clearwater", "Highland", "Westfield", "Eastgate", "Fairview", "Brookside",
    "Stonebridge", "Greenfield", "Crescent", "Liberty", "Pioneer", "Heritage", "Evergreen",
    "Union", "Frontier", "Coastal", "Valley", "Canyon", "Lakeview", "Meadowbrook", "Copper",
    "Falcon", "Atlas", "Summit Ridge", "Tri-County",
)  # fmt: skip
# Name endings per industry, in _INDUSTRIES order.
_NAME_NOUNS = (
    ("Fabrication", "Machining", "Plastics", "Metalworks", "Industries"),
    ("Builders", "Construction", "Contracting", "Roofing", "Concrete"),
    ("Medical Center", "Clinic", "Health", "Dental Group", "Care Homes"),
    ("School District", "Academy", "College", "Learning Center"),
    ("Hotels", "Resorts", "Catering", "Restaurant Group"),
    ("Public Works", "City Services", "Water Authority", "Transit Authority"),
    ("Auto Body", "Motors", "Collision", "Fleet Services"),
    ("Foods", "Bakery", "Meat Packing", "Dairy"),
    ("Logistics", "Freight", "Warehousing", "Distribution"),
    ("Property Management", "Facilities", "Realty", "Apartments"),
)
_NAME_SUFFIXES = ("", " Inc.", " LLC", " Co.", " Corp.")
_REGIONS = ("northeast", "southeast", "midwest", "southwest", "west")
_WAREHOUSES = ("WH-NJ", "WH-GA", "WH-IL", "WH-TX", "WH-CA")  # one per region, same order
_ACQUISITION_CHANNELS = ("referral", "web", "trade_show", "rep", "catalog")
_ACQUISITION_MIX = (0.30, 0.25, 0.15, 0.22, 0.08)
# Average value of an order line of a median-sized customer, to estimate yearly spend.
_MEAN_LINE_CENTS = 10_000
_SEASONALITY = (0.90, 0.96, 1.05, 1.06, 1.07, 1.03, 0.94, 0.99, 1.05, 1.08, 1.00, 0.87)

# --- prices, freight and payment terms -----------------------------------------------

_DISCOUNT_CODES = ("CONTRACT", "SPRING5", "LOYAL8", "BULK10", "WELCOME15")
_PROMO_DISCOUNTS = np.array([0.0, 0.05, 0.08, 0.10, 0.15])  # CONTRACT is per customer
FREE_FREIGHT_OVER = 300.00  # order value (USD) from which standard freight is free
EXPEDITE_FEE = 25.00
# Carriers: parcel up to 68 kg, LTL (pallet freight) above; the post for light parcels.
_CARRIERS = ("UPS", "FedEx", "USPS", "Estes LTL")  # two parcel carriers first
_PARCEL_MAX_KG, _LIGHT_PARCEL_KG = 68.0, 2.0
_EXPEDITED_FREIGHT_FACTOR = 2.4
_FREIGHT_MARKUP = 1.15  # freight billed to customers over our expected carrier cost
_RESTOCKING_FEE_RATE = 0.15
_RETURN_REASONS = ("damaged", "wrong_item", "not_needed", "defective", "unclear_instructions")
# reason mix per disposition, in DISPOSITIONS order (restock, scrap, keep)
_REASON_MIX = np.array(
    [
        [0.00, 0.35, 0.50, 0.00, 0.15],
        [0.55, 0.00, 0.00, 0.45, 0.00],
        [0.30, 0.30, 0.20, 0.00, 0.20],
    ]
)
# disposition mix of ordinary customers, of return abusers and of heavy returners
# who send everything back unopened
_DISPOSITION_MIX = np.array([[0.55, 0.25, 0.20], [0.10, 0.35, 0.55], [0.92, 0.04, 0.04]])
_OVERRIDE_REASONS = (
    "key account",
    "competitive match",
    "customer complaint",
    "first order",
    "goodwill",
    "rep discretion",
)
_SERVICE_REASONS = (
    "order_status",
    "invoice_question",
    "product_question",
    "delivery_problem",
    "return_request",
    "account_change",
)
# mean handling minutes per contact channel, in CONTACT_CHANNELS order
_CONTACT_MINUTES = np.array([9.0, 6.0, 7.0, 3.5])
_CONTACT_CHANNEL_MIX = np.array([0.50, 0.30, 0.15, 0.05])
# mean minutes per sales activity, in ACTIVITY_KINDS order (visits include travel)
_ACTIVITY_MINUTES = np.array([100.0, 14.0, 35.0])

# --- cost pools ----------------------------------------------------------------------

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


def write_demo_erp(
    out_dir: Path,
    *,
    customers: int = 800,
    months: int = 24,
    seed: int = 7,
    file_format: str = "parquet",
    end_period: str = "2026-10",
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Write the demo company's ERP extract to `out_dir`, one month at a time."""
    if file_format not in FILE_FORMATS:
        raise ValueError(f"file_format must be one of {FILE_FORMATS}, not {file_format!r}")
    if customers < MIN_CUSTOMERS:
        raise ValueError(f"customers must be at least {MIN_CUSTOMERS}, not {customers}")
    if months < 1:
        raise ValueError(f"months must be at least 1, not {months}")
    out_dir = Path(out_dir)
    last_closed = np.datetime64(end_period, "M")
    periods = last_closed + np.arange(-months + 1, 2)  # the closed months, then the open one
    writer = _ExtractWriter(out_dir, file_format)
    company = _Company(seed, customers, periods)

    writer.write("customers", None, company.customers_table())
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
        stories=company.stories(),
    )


# --- the company ---------------------------------------------------------------------


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


@dataclass
class _Customers:
    """Who the customers are and how each behaves, one array element per customer."""

    count: int
    industry: np.ndarray
    region: np.ndarray
    rep: np.ndarray  # account owner, -1 for house accounts
    size: np.ndarray  # log-logistic, median 1
    created_date: np.ndarray
    first_month: np.ndarray  # index of the first month with orders (negative: before the data)
    churn_month: np.ndarray  # no orders from this month index on
    growth: np.ndarray  # log growth per year
    orders_per_month: np.ndarray
    lines_per_order: np.ndarray
    quantity_factor: np.ndarray
    channel_cdf: np.ndarray  # customer x order channel, cumulative
    tier_preference: np.ndarray  # exponent on a uniform draw: > 1 leans to premium brands
    contract_discount: np.ndarray  # 0 = list prices
    promo_rate: np.ndarray
    free_freight: np.ndarray
    expedite_rate: np.ndarray
    will_call_rate: np.ndarray
    terms_days: np.ndarray
    pay_delay_days: np.ndarray  # mean days paid after the due date
    partial_rate: np.ndarray
    write_off_rate: np.ndarray
    return_rate: np.ndarray  # share of lines returned
    disposition_profile: np.ndarray  # row of _DISPOSITION_MIX
    restocking_fee_rate: np.ndarray
    contacts_per_month: np.ndarray
    contact_storms: np.ndarray  # service abusers: days with 10+ contacts
    activities_per_month: np.ndarray  # customer x activity kind
    project_based: np.ndarray
    employee_count: np.ndarray
    est_annual_spend_cents: np.ndarray
    acquisition_channel: np.ndarray
    assortment: np.ndarray  # customer x family: the families it buys from the start
    affinity: np.ndarray  # index into _FAMILY_AFFINITIES, -1 = none
    adoption_month: np.ndarray  # month index from which a member buys its affinity's B
    name: pa.Array
    story_members: dict[str, np.ndarray]


class _Company:
    """Meridian Supply Co.: its catalogue, customers and reps, and the facts of each month.

    Facts dated after the month that caused them (shipments, returns, payments,
    waived restocking fees) wait in a backlog until their month is written; that and
    the id counters are the only state carried from month to month.
    """

    def __init__(self, seed: int, customer_count: int, periods: np.ndarray) -> None:
        self.seed = seed
        self.periods = periods
        self.last_closed_index = len(periods) - 2
        setup = self._rng("setup")
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
        self.customers = _build_customers(setup, customer_count, self, periods[0])
        self.backlog = _Backlog()
        self.next_id = dict.fromkeys(
            ("invoice", "shipment", "return", "payment", "contact", "activity", "override"), 1
        )

    def _rng(self, stream: str, month_index: int = 0) -> np.random.Generator:
        # One generator per purpose and month: when one table draws more, the draws of
        # the others stay as they were.
        return np.random.default_rng((self.seed, zlib.crc32(stream.encode()), month_index))

    def _take_ids(self, kind: str, count: int) -> np.ndarray:
        first = self.next_id[kind]
        self.next_id[kind] = first + count
        return np.arange(first, first + count, dtype=np.int64)

    def stories(self) -> dict[str, tuple[str, ...]]:
        stories = {
            story: tuple(_customer_ids(members).to_pylist())
            for story, members in self.customers.story_members.items()
        }
        stories["over_overriding_reps"] = tuple(_rep_ids(self.over_overriding_reps).to_pylist())
        stories.update(self._portal_stories())
        return stories

    def _portal_stories(self) -> dict[str, tuple[str, ...]]:
        cat = self.catalogue
        spread = [i for i, f in enumerate(cat.product_family) if f == _PROFIT_SPREAD_FAMILY]
        list_margin = cat.list_cents[spread] - cat.cost_cents[spread]
        return {
            "family_with_profit_spread": tuple(
                cat.sku[spread[i]] for i in np.argsort(-list_margin, kind="stable")
            ),
            "backordered_sku_with_better_sibling": (_BACKORDERED_SKU, _BACKORDERED_SIBLING),
            "family_affinities": tuple(f"{a}>{b}" for a, b in _FAMILY_AFFINITIES),
            "cheap_bulky_sku_keep": (_CHEAP_BULKY_SKU,),
            "unclear_instructions_sku": (_UNCLEAR_INSTRUCTIONS_SKU,),
            "reps_with_desert_books": tuple(_rep_ids(self.tiny_account_visitors).to_pylist()),
            "referral_channel": ("referral",),
        }

    # --- dimensions ---

    def customers_table(self) -> pa.Table:
        c = self.customers
        has_rep = c.rep >= 0
        return _table(
            "customers",
            customer_id=_customer_ids(np.arange(c.count)),
            customer_name=c.name,
            industry=_labels(_INDUSTRIES, c.industry),
            region=_labels(_REGIONS, c.region),
            created_date=pa.array(c.created_date),
            sales_rep_id=_rep_ids(np.where(has_rep, c.rep, 0), valid=has_rep),
            employee_count=pa.array(c.employee_count, pa.int64()),
            est_annual_spend=_decimal(c.est_annual_spend_cents, 2),
            acquisition_channel=_labels(_ACQUISITION_CHANNELS, c.acquisition_channel),
        )

    def products_table(self) -> pa.Table:
        cat = self.catalogue
        return _table(
            "products",
            sku=pa.array(cat.sku),
            product_name=pa.array(cat.product_name),
            product_family=pa.array(cat.product_family),
            brand=pa.array(cat.brand),
            category=pa.array(cat.category),
            unit_weight_kg=_decimal(cat.unit_weight_g, 3),
            list_price=_decimal(cat.list_cents, 2),
            standard_cost=_decimal(cat.cost_cents, 2),
        )

    # --- one month ---

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

        activity = self._activity(month_index) * share_of_month
        orders = self._invoices(month_index, activity, business_days)
        lines = self._invoice_lines(month_index, orders)
        self._price_freight_and_waivers(month_index, orders, lines)
        shipment_count = self._schedule_shipments(month_index, orders)
        self._schedule_returns(month_index, orders, lines)
        self._schedule_payments(month_index, orders)
        contacts = self._service_contacts(month_index, activity, business_days)
        activities = self._sales_activities(month_index, activity, business_days, share_of_month)

        returns = self.backlog.take("returns", last_day)
        tables = {
            "invoices": self._invoices_table(orders),
            "invoice_lines": self._invoice_lines_table(orders, lines),
            "shipments": self._shipments_table(self.backlog.take("shipments", last_day)),
            "returns": self._returns_table(returns),
            "payments": self._payments_table(self.backlog.take("payments", last_day)),
            "service_contacts": contacts,
            "sales_activities": activities,
            "policy_overrides": self._overrides_table(self.backlog.take("overrides", last_day)),
        }
        if not is_open:
            units = {
                "orders": len(orders["customer"]),
                "manual_orders": int(_IS_MANUAL_CHANNEL[orders["channel"]].sum()),
                "expedited_orders": int((orders["ship_method"] == _EXPEDITED).sum()),
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
            tables["gl_summary"] = _table(
                "gl_summary",
                period=pa.array([str(period)] * len(GL_ACCOUNTS)),
                account=pa.array(GL_ACCOUNTS),
                amount=_decimal(np.array([ledger_cents[a] for a in GL_ACCOUNTS]), 2),
            )
        return tables

    def _activity(self, month_index: int) -> np.ndarray:
        """How much each customer buys this month relative to its usual month."""
        c = self.customers
        alive = (c.first_month <= month_index) & (month_index < c.churn_month)
        months_from_end = month_index - self.last_closed_index
        month_of_year = int(str(self.periods[month_index])[5:7]) - 1
        in_latest_year = months_from_end > -12
        project_cycle = np.where(c.project_based, np.where(in_latest_year, 0.01, 1.3), 1.0)
        growth = np.exp(c.growth * months_from_end / 12)
        return alive * growth * project_cycle * _SEASONALITY[month_of_year]

    def _invoices(self, month_index: int, activity: np.ndarray, days: np.ndarray) -> dict:
        c = self.customers
        rng = self._rng("invoices", month_index)
        per_customer = rng.poisson(c.orders_per_month * activity)
        customer = np.repeat(np.arange(c.count), per_customer)
        count = len(customer)
        invoice_date = rng.choice(days, count)
        chronological = np.lexsort((customer, invoice_date))
        customer, invoice_date = customer[chronological], invoice_date[chronological]

        channel = _draw_rows(rng, c.channel_cdf[customer])
        # EDI orders are invoiced the day they arrive; hand-keyed ones wait a day or two.
        order_lag = rng.integers(0, np.where(_IS_MANUAL_CHANNEL[channel], 4, 2))
        draw = rng.random(count)
        expedite_rate = c.expedite_rate[customer]
        ship_method = np.select(
            [draw < c.will_call_rate[customer], draw > 1 - expedite_rate],
            [_WILL_CALL, _EXPEDITED],
            _STANDARD,
        )
        return {
            "seq": self._take_ids("invoice", count),
            "customer": customer,
            "rep": c.rep[customer],
            "invoice_date": invoice_date,
            "order_date": invoice_date - order_lag,
            "channel": channel,
            "ship_method": ship_method,
            "terms_days": c.terms_days[customer],
        }

    def _invoice_lines(self, month_index: int, orders: dict) -> dict:
        c, cat = self.customers, self.catalogue
        rng = self._rng("lines", month_index)
        invoice_customer = orders["customer"]
        per_invoice = 1 + np.minimum(
            rng.poisson(c.lines_per_order[invoice_customer] - 1), 59
        ).astype(np.int64)
        invoice = np.repeat(np.arange(len(invoice_customer)), per_invoice)
        starts = np.cumsum(per_invoice) - per_invoice
        line_number = np.arange(len(invoice)) - starts[invoice] + 1
        customer = invoice_customer[invoice]
        count = len(invoice)

        family = _draw_by_customer(rng, self._family_cdf(month_index), customer)
        tier_draw = rng.random(count) ** c.tier_preference[customer]
        sku = cat.family_start[family] + (tier_draw * cat.family_size[family]).astype(np.int64)

        quantity = np.maximum(
            1,
            np.rint(
                cat.typical_quantity[sku]
                * c.quantity_factor[customer]
                * rng.lognormal(-0.25, 0.75, count)
            ),
        ).astype(np.int64)

        list_cents = cat.list_cents[sku]
        contract_discount = c.contract_discount[customer]
        # Contract prices cover most of the catalogue; net-priced items are excluded.
        on_contract = (contract_discount > 0) & (rng.random(count) < 0.85)
        on_promo = ~on_contract & (rng.random(count) < c.promo_rate[customer])
        promo_code = rng.integers(1, len(_DISCOUNT_CODES), count)
        discount_code = np.where(on_contract, 0, np.where(on_promo, promo_code, -1))
        discount = np.where(
            on_contract, contract_discount, np.where(on_promo, _PROMO_DISCOUNTS[promo_code], 0.0)
        )
        price_cents = np.rint(list_cents * (1 - discount)).astype(np.int64)

        # Purchase prices drift around the standard cost; some lines carry none.
        has_unit_cost = rng.random(count) >= 0.12
        unit_cost_cents = np.rint(cat.cost_cents[sku] * rng.normal(1.0, 0.025, count)).astype(
            np.int64
        )
        cost_cents = np.where(has_unit_cost, unit_cost_cents, cat.cost_cents[sku])

        home_warehouse = c.region[customer]
        other_warehouse = rng.integers(0, len(_WAREHOUSES), count)
        warehouse = np.where(rng.random(count) < 0.08, other_warehouse, home_warehouse)
        return {
            "invoice": invoice,
            "starts": starts,
            "line_number": line_number,
            "sku": sku,
            "quantity": quantity,
            "unit_weight_g": cat.unit_weight_g[sku],
            "list_cents": list_cents,
            "price_cents": price_cents,
            "discount_code": discount_code,
            "unit_cost_cents": unit_cost_cents,
            "has_unit_cost": has_unit_cost,
            "net_cents": quantity * price_cents,
            "cogs_cents": quantity * cost_cents,
            "warehouse": warehouse,
            "backordered": rng.random(count) < cat.backorder_rate[sku],
            "promo_small_customer": on_promo & (c.size[customer] < 1),
        }

    def _family_cdf(self, month_index: int) -> np.ndarray:
        """Customer x family, cumulative: how likely a line of the month is of each family."""
        c, cat = self.customers, self.catalogue
        taken_up = np.zeros_like(c.assortment)
        adopters = np.flatnonzero((c.affinity >= 0) & (c.adoption_month <= month_index))
        taken_up[adopters, cat.affinity_families[c.affinity[adopters], 1]] = True
        # Accounts that buy everything follow their industry's mix; the others spread
        # their lines evenly over their assortment, so that no family of it is rare.
        buys_everything = c.assortment.all(axis=1, keepdims=True)
        weights = np.where(buys_everything, cat.family_mix[c.industry], 1.0) * c.assortment
        weights /= weights.sum(axis=1, keepdims=True)
        # Adopters put a fixed share of their lines into the family they took up.
        weights = weights * (1 - _AFFINITY_LINE_SHARE * taken_up.any(axis=1, keepdims=True))
        weights += _AFFINITY_LINE_SHARE * taken_up
        return np.cumsum(weights, axis=1)

    def _price_freight_and_waivers(self, month_index: int, orders: dict, lines: dict) -> None:
        """Bill freight and expediting by policy, unless the customer's rep waives it."""
        c = self.customers
        rng = self._rng("freight", month_index)
        customer, rep = orders["customer"], orders["rep"]
        count = len(customer)
        starts = lines["starts"]
        net_cents = _sum_by_invoice(lines["net_cents"], starts)
        weight_g = _sum_by_invoice(lines["quantity"] * lines["unit_weight_g"], starts)
        expedited = orders["ship_method"] == _EXPEDITED
        has_rep = rep >= 0
        waiver_rate = np.where(has_rep, self.rep_override_rate[np.maximum(rep, 0)], 0.0)

        freight_applies = (
            (orders["ship_method"] != _WILL_CALL)
            & ~c.free_freight[customer]
            & (net_cents < FREE_FREIGHT_OVER * 100)
        )
        freight_waived = freight_applies & (rng.random(count) < waiver_rate)
        expected_carrier_cents = _carrier_cents(weight_g / 1000, expedited)
        freight_charged = np.where(
            freight_applies & ~freight_waived,
            np.rint(expected_carrier_cents * _FREIGHT_MARKUP),
            0,
        ).astype(np.int64)

        expedite_applies = expedited & ~c.free_freight[customer]
        expedite_waived = expedite_applies & (rng.random(count) < waiver_rate)
        # The fee is often forgotten even without a rep asking: only 60% is billed.
        expedite_billed = expedite_applies & ~expedite_waived & (rng.random(count) < 0.6)
        expedite_charged = np.where(expedite_billed, round(EXPEDITE_FEE * 100), 0)

        small_order = has_rep & (net_cents < 7_500) & (rng.random(count) < waiver_rate * 0.5)
        promo_invoice = _sum_by_invoice(lines["promo_small_customer"].astype(np.int64), starts) > 0
        discount_allowed = has_rep & promo_invoice & (rng.random(count) < waiver_rate * 0.5)

        orders.update(
            net_cents=net_cents,
            weight_g=weight_g,
            has_backorder=_sum_by_invoice(lines["backordered"].astype(np.int64), starts) > 0,
            freight_charged_cents=freight_charged,
            expedite_charged_cents=expedite_charged,
        )
        overrides = [
            (freight_waived, "charge_freight"),
            (expedite_waived, "charge_expedite"),
            (small_order, "min_order_value"),
            (discount_allowed, "no_discounts"),
        ]
        for waived, policy in overrides:
            self._schedule_overrides(
                rng, orders["seq"][waived], rep[waived], orders["invoice_date"][waived], policy
            )

    def _schedule_overrides(
        self,
        rng: np.random.Generator,
        invoice_seq: np.ndarray,
        rep: np.ndarray,
        date: np.ndarray,
        policy: str,
    ) -> None:
        count = len(invoice_seq)
        self.backlog.add(
            "overrides",
            date,
            seq=self._take_ids("override", count),
            invoice_seq=invoice_seq,
            rep=rep,
            policy=np.full(count, POLICIES.index(policy)),
            reason=np.where(
                rng.random(count) < 0.15, -1, rng.integers(0, len(_OVERRIDE_REASONS), count)
            ),
        )

    def _schedule_shipments(self, month_index: int, orders: dict) -> int:
        """Ship every invoice that is not picked up, backorders later; returns the count."""
        rng = self._rng("shipments", month_index)
        count = len(orders["customer"])
        per_invoice = np.where(
            orders["ship_method"] == _WILL_CALL,
            0,
            np.minimum(3, 1 + orders["has_backorder"] + (rng.random(count) < 0.03)),
        )
        invoice = np.repeat(np.arange(count), per_invoice)
        first_of_invoice = np.cumsum(per_invoice) - per_invoice
        is_first = np.arange(len(invoice)) == first_of_invoice[invoice]
        # Later shipments leave within four days, so every closed month's freight is
        # known by the extract date.
        ship_date = orders["invoice_date"][invoice] + np.where(
            is_first, 0, rng.integers(1, 5, len(invoice))
        )
        share = np.where(is_first, 1.0, 0.0) + rng.uniform(0.2, 1.0, len(invoice))
        share /= np.bincount(invoice, weights=share, minlength=count)[invoice]
        weight_g = np.maximum(1, np.rint(orders["weight_g"][invoice] * share)).astype(np.int64)
        weight_kg = weight_g / 1000
        expedited = orders["ship_method"][invoice] == _EXPEDITED
        freight_cost = np.rint(
            _carrier_cents(weight_kg, expedited) * rng.lognormal(0, 0.08, len(invoice))
        ).astype(np.int64)
        carrier = np.select(
            [weight_kg > _PARCEL_MAX_KG, (weight_kg < _LIGHT_PARCEL_KG) & ~expedited],
            [_CARRIERS.index("Estes LTL"), _CARRIERS.index("USPS")],
            rng.integers(0, 2, len(invoice)),
        )
        orders["freight_cost_cents"] = np.bincount(
            invoice, weights=freight_cost, minlength=count
        ).astype(np.int64)
        self.backlog.add(
            "shipments",
            ship_date,
            seq=self._take_ids("shipment", len(invoice)),
            invoice_seq=orders["seq"][invoice],
            carrier=carrier,
            weight_g=weight_g,
            freight_cost_cents=freight_cost,
        )
        return len(invoice)

    def _schedule_returns(self, month_index: int, orders: dict, lines: dict) -> None:
        """Decide now which lines come back, when and how, up to what was sold."""
        c, cat = self.customers, self.catalogue
        rng = self._rng("returns", month_index)
        customer = orders["customer"][lines["invoice"]]
        is_returned = rng.random(len(customer)) < c.return_rate[customer]
        self._schedule_returned_lines(rng, orders, lines, np.flatnonzero(is_returned))
        # The planted SKUs' extra returns draw from their own stream, so the usual
        # returns stay as they were.
        planted_rng = self._rng("planted_returns", month_index)
        planted_rate = cat.planted_return_rate[lines["sku"]]
        planted = ~is_returned & (planted_rng.random(len(customer)) < planted_rate)
        self._schedule_returned_lines(
            planted_rng, orders, lines, np.flatnonzero(planted), cat.planted_reason
        )

    def _schedule_returned_lines(
        self,
        rng: np.random.Generator,
        orders: dict,
        lines: dict,
        returned: np.ndarray,
        reason_by_sku: np.ndarray | None = None,
    ) -> None:
        c = self.customers
        customer = orders["customer"][lines["invoice"][returned]]
        sold = lines["quantity"][returned]
        whole_line = rng.random(len(returned)) < 0.5
        first_quantity = np.where(
            whole_line, sold, np.clip(np.rint(sold * rng.uniform(0.2, 1.0, len(returned))), 1, sold)
        ).astype(np.int64)
        invoice_date = orders["invoice_date"][lines["invoice"][returned]]
        first_date = invoice_date + 2 + np.rint(rng.gamma(2.0, 7.0, len(returned))).astype(int)
        # A few customers send back the rest of a line a second time.
        second = (first_quantity < sold) & (rng.random(len(returned)) < 0.3)
        second_quantity = rng.integers(1, np.maximum(sold - first_quantity, 1) + 1)
        second_date = first_date + 3 + rng.integers(0, 30, len(returned))

        index = np.concatenate([np.arange(len(returned)), np.flatnonzero(second)])
        quantity = np.concatenate([first_quantity, second_quantity[second]])
        date = np.concatenate([first_date, second_date[second]])
        line = returned[index]
        customer = customer[index]
        count = len(index)

        disposition = _draw_rows(
            rng, np.cumsum(_DISPOSITION_MIX, 1)[c.disposition_profile[customer]]
        )
        reason = _draw_rows(rng, np.cumsum(_REASON_MIX, 1)[disposition])
        reason = np.where(rng.random(count) < 0.03, -1, reason)
        if reason_by_sku is not None:
            planted_reason = reason_by_sku[lines["sku"][line]]
            reason = np.where(planted_reason >= 0, planted_reason, reason)
        credit_cents = quantity * lines["price_cents"][line]
        fee_applies = (disposition == DISPOSITIONS.index("restock")) & np.isin(
            reason, [_RETURN_REASONS.index("not_needed"), _RETURN_REASONS.index("wrong_item")]
        )
        rep = c.rep[customer]
        waiver_rate = np.where(rep >= 0, self.rep_override_rate[np.maximum(rep, 0)], 0.0)
        fee_waived = fee_applies & (rng.random(count) < waiver_rate)
        fee_charged = (
            fee_applies & ~fee_waived & (rng.random(count) < c.restocking_fee_rate[customer])
        )
        fee_cents = np.where(fee_charged, np.rint(credit_cents * _RESTOCKING_FEE_RATE), 0)

        invoice_seq = orders["seq"][lines["invoice"][line]]
        self.backlog.add(
            "returns",
            date,
            seq=self._take_ids("return", count),
            invoice_seq=invoice_seq,
            line_number=lines["line_number"][line],
            quantity=quantity,
            credit_cents=credit_cents,
            reason=reason,
            disposition=disposition,
            fee_cents=fee_cents.astype(np.int64),
        )
        self._schedule_overrides(
            rng, invoice_seq[fee_waived], rep[fee_waived], date[fee_waived], "restocking_fee"
        )

    def _schedule_payments(self, month_index: int, orders: dict) -> None:
        """Plan every payment of this month's invoices: on time, late, in parts or never."""
        c = self.customers
        rng = self._rng("payments", month_index)
        customer = orders["customer"]
        count = len(customer)
        total = (
            orders["net_cents"] + orders["freight_charged_cents"] + orders["expedite_charged_cents"]
        )
        invoice_date = orders["invoice_date"]
        delay = np.rint(rng.normal(c.pay_delay_days[customer], 4.0)).astype(int)
        first_date = np.maximum(invoice_date + 1, invoice_date + orders["terms_days"] + delay)

        written_off = rng.random(count) < c.write_off_rate[customer]
        in_parts = ~written_off & (rng.random(count) < c.partial_rate[customer])
        # Bad debts: some pay a part first; the rest is written off months later.
        paid_before_write_off = written_off & (rng.random(count) < 0.4)
        first_share = np.where(
            in_parts | paid_before_write_off,
            rng.uniform(0.3, 0.8, count),
            np.where(written_off, 0, 1),
        )
        first_cents = np.rint(total * first_share).astype(np.int64)
        second_date = first_date + rng.integers(10, 41, count)
        write_off_date = invoice_date + orders["terms_days"] + rng.integers(120, 200, count)

        first = first_cents > 0
        second = in_parts
        date = np.concatenate([first_date[first], second_date[second], write_off_date[written_off]])
        invoice = np.concatenate(
            [np.flatnonzero(first), np.flatnonzero(second), np.flatnonzero(written_off)]
        )
        rest = total - first_cents
        amount = np.concatenate([first_cents[first], rest[second], rest[written_off]])
        kind = np.concatenate(
            [
                np.zeros(first.sum() + second.sum(), dtype=np.int64),
                np.full(written_off.sum(), PAYMENT_KINDS.index("write_off")),
            ]
        )
        self.backlog.add(
            "payments",
            date,
            seq=self._take_ids("payment", len(invoice)),
            invoice_seq=orders["seq"][invoice],
            amount_cents=amount,
            kind=kind,
        )

    def _service_contacts(
        self, month_index: int, activity: np.ndarray, days: np.ndarray
    ) -> pa.Table:
        c = self.customers
        rng = self._rng("service", month_index)
        # Customers keep calling while they buy less, just not as often.
        rate = c.contacts_per_month * np.sqrt(np.minimum(activity, 1.0))
        customer = np.repeat(np.arange(c.count), rng.poisson(rate))
        day = rng.choice(days, len(customer))
        # Service abusers: days when they call, mail and chat ten times or more.
        storm_customer = np.repeat(np.arange(c.count), rng.binomial(c.contact_storms, 0.5))
        storm_day = rng.choice(days, len(storm_customer))
        storm_size = 10 + rng.poisson(4, len(storm_customer))
        customer = np.concatenate([customer, np.repeat(storm_customer, storm_size)])
        day = np.concatenate([day, np.repeat(storm_day, storm_size)])
        count = len(customer)

        channel = _draw_rows(rng, np.broadcast_to(np.cumsum(_CONTACT_CHANNEL_MIX), (count, 4)))
        minutes_tenths = np.maximum(
            5, np.rint(10 * _CONTACT_MINUTES[channel] * rng.lognormal(-0.18, 0.6, count))
        ).astype(np.int64)
        seconds_into_day = rng.integers(7 * 3600, 18 * 3600, count)
        timestamp = day.astype("datetime64[s]") + seconds_into_day
        order = np.lexsort((customer, timestamp))
        reason = np.where(
            rng.random(count) < 0.05, -1, rng.integers(0, len(_SERVICE_REASONS), count)
        )
        return _table(
            "service_contacts",
            contact_id=_ids("SC", self._take_ids("contact", count), 9),
            customer_id=_customer_ids(customer[order]),
            contact_ts=pa.array(timestamp[order]),
            channel=_labels(CONTACT_CHANNELS, channel[order]),
            minutes=_decimal(minutes_tenths[order], 1),
            reason_code=_labels(_SERVICE_REASONS, reason[order]),
        )

    def _sales_activities(
        self, month_index: int, activity: np.ndarray, days: np.ndarray, share_of_month: float
    ) -> pa.Table:
        c = self.customers
        rng = self._rng("sales", month_index)
        alive = activity > 0
        # Reps keep visiting accounts that went quiet: that is how they win them back.
        expected = c.activities_per_month * (alive * share_of_month)[:, None]
        counts = rng.poisson(expected)
        customer = np.repeat(np.tile(np.arange(c.count), 3), counts.T.ravel())
        kind = np.repeat(np.repeat(np.arange(3), c.count), counts.T.ravel())
        count = len(customer)
        own_rep = c.rep[customer]
        # House accounts get quotes from whoever is free; reps cover for each other.
        covering = (own_rep < 0) | (rng.random(count) < 0.08)
        rep = np.where(covering, rng.integers(0, self.reps, count), own_rep)
        minutes = np.maximum(
            5, np.rint(_ACTIVITY_MINUTES[kind] * rng.lognormal(-0.12, 0.5, count))
        ).astype(np.int64)
        date = rng.choice(days, count)
        order = np.lexsort((customer, date))
        return _table(
            "sales_activities",
            activity_id=_ids("SA", self._take_ids("activity", count), 9),
            customer_id=_customer_ids(customer[order]),
            rep_id=_rep_ids(rep[order]),
            activity_date=pa.array(date[order]),
            kind=_labels(ACTIVITY_KINDS, kind[order]),
            minutes=_decimal(minutes[order], 0),
        )

    def _cost_pools(self, month_index: int, units: dict[str, float]) -> pa.Table:
        rng = self._rng("pools", month_index)
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
        return _table(
            "cost_pools",
            period=pa.array([str(self.periods[month_index])] * len(_POOLS)),
            pool=pa.array([p[0] for p in _POOLS]),
            amount=_decimal(np.array(amounts), 2),
            driver=pa.array([p[1] for p in _POOLS]),
            variable_share=_decimal(np.array([round(p[3] * 100) for p in _POOLS]), 2),
            capacity_units=_decimal(np.array([c or 0 for c in capacities]), 1, valid=has_capacity),
        )

    # --- arrow tables from the month's arrays ---

    def _invoices_table(self, orders: dict) -> pa.Table:
        rep = orders["rep"]
        count = len(rep)
        return _table(
            "invoices",
            invoice_id=_invoice_ids(orders["seq"]),
            customer_id=_customer_ids(orders["customer"]),
            order_date=pa.array(orders["order_date"]),
            invoice_date=pa.array(orders["invoice_date"]),
            sales_rep_id=_rep_ids(np.maximum(rep, 0), valid=rep >= 0),
            order_channel=_labels(ORDER_CHANNELS, orders["channel"]),
            ship_method=_labels(SHIP_METHODS, orders["ship_method"]),
            freight_charged=_decimal(orders["freight_charged_cents"], 2),
            expedite_charged=_decimal(orders["expedite_charged_cents"], 2),
            payment_terms_days=pa.array(orders["terms_days"], pa.int64()),
            currency=_labels((CURRENCY,), np.zeros(count, dtype=np.int64)),
        )

    def _invoice_lines_table(self, orders: dict, lines: dict) -> pa.Table:
        return _table(
            "invoice_lines",
            invoice_id=_invoice_ids(orders["seq"][lines["invoice"]]),
            line_number=pa.array(lines["line_number"], pa.int64()),
            sku=pc.take(pa.array(self.catalogue.sku), pa.array(lines["sku"])),
            quantity=_decimal(lines["quantity"], 0),
            unit_list_price=_decimal(lines["list_cents"], 2),
            unit_price=_decimal(lines["price_cents"], 2),
            discount_code=_labels(_DISCOUNT_CODES, lines["discount_code"]),
            unit_cost=_decimal(lines["unit_cost_cents"], 2, valid=lines["has_unit_cost"]),
            warehouse_id=_labels(_WAREHOUSES, lines["warehouse"]),
            backordered=pa.array(lines["backordered"]),
        )

    def _shipments_table(self, shipments: dict) -> pa.Table:
        return _table(
            "shipments",
            shipment_id=_ids("SHP", shipments["seq"], 9),
            invoice_id=_invoice_ids(shipments["invoice_seq"]),
            carrier=_labels(_CARRIERS, shipments["carrier"]),
            ship_date=pa.array(shipments["date"]),
            weight_kg=_decimal(shipments["weight_g"], 3),
            freight_cost=_decimal(shipments["freight_cost_cents"], 2),
        )

    def _returns_table(self, returns: dict) -> pa.Table:
        return _table(
            "returns",
            return_id=_ids("RMA", returns["seq"], 8),
            invoice_id=_invoice_ids(returns["invoice_seq"]),
            line_number=pa.array(returns["line_number"], pa.int64()),
            return_date=pa.array(returns["date"]),
            quantity=_decimal(returns["quantity"], 0),
            credit_amount=_decimal(returns["credit_cents"], 2),
            reason_code=_labels(_RETURN_REASONS, returns["reason"]),
            disposition=_labels(DISPOSITIONS, returns["disposition"]),
            restocking_fee_charged=_decimal(returns["fee_cents"], 2),
        )

    def _payments_table(self, payments: dict) -> pa.Table:
        return _table(
            "payments",
            payment_id=_ids("PAY", payments["seq"], 9),
            invoice_id=_invoice_ids(payments["invoice_seq"]),
            payment_date=pa.array(payments["date"]),
            amount=_decimal(payments["amount_cents"], 2),
            kind=_labels(PAYMENT_KINDS, payments["kind"]),
        )

    def _overrides_table(self, overrides: dict) -> pa.Table:
        return _table(
            "policy_overrides",
            override_id=_ids("OVR", overrides["seq"], 8),
            invoice_id=_invoice_ids(overrides["invoice_seq"]),
            rep_id=_rep_ids(overrides["rep"]),
            policy=_labels(POLICIES, overrides["policy"]),
            override_date=pa.array(overrides["date"]),
            reason=_labels(_OVERRIDE_REASONS, overrides["reason"]),
        )


class _Backlog:
    """Facts already decided but dated in a later month, per table, as column arrays."""

    def __init__(self) -> None:
        self._pending: dict[str, dict[str, np.ndarray]] = {}

    def add(self, table: str, date: np.ndarray, **columns: np.ndarray) -> None:
        new = {"date": date, **columns}
        pending = self._pending.get(table)
        self._pending[table] = (
            new
            if pending is None
            else {name: np.concatenate([pending[name], new[name]]) for name in new}
        )

    def take(self, table: str, last_day: np.datetime64) -> dict[str, np.ndarray]:
        """Remove and return the rows dated up to `last_day`, by date and id."""
        pending = self._pending[table]
        due = pending["date"] <= last_day
        self._pending[table] = {name: values[~due] for name, values in pending.items()}
        order = np.lexsort((pending["seq"][due], pending["date"][due]))
        return {name: values[due][order] for name, values in pending.items()}


# --- building the company ------------------------------------------------------------


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

    category_of_family = np.array([_CATEGORIES.index(f[2]) for f in _FAMILIES])
    family_popularity = rng.lognormal(0, 0.4, len(_FAMILIES))
    per_category = np.bincount(category_of_family, minlength=len(_CATEGORIES))
    mix = (
        _CATEGORY_MIX[:, category_of_family] * family_popularity / per_category[category_of_family]
    )
    sku_index = {sku: i for i, sku in enumerate(rows["sku"])}
    backorder_rate = np.full(len(rows["sku"]), _USUAL_BACKORDER_RATE)
    backorder_rate[sku_index[_BACKORDERED_SKU]] = _BACKORDER_RATE
    planted_return_rate = np.zeros(len(rows["sku"]))
    planted_reason = np.full(len(rows["sku"]), -1, dtype=np.int64)
    for sku, (rate, reason) in _PLANTED_RETURNS.items():
        planted_return_rate[sku_index[sku]] = rate
        if reason is not None:
            planted_reason[sku_index[sku]] = _RETURN_REASONS.index(reason)
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
            [[family_names.index(a), family_names.index(b)] for a, b in _FAMILY_AFFINITIES]
        ),
    )


def _build_customers(
    rng: np.random.Generator, count: int, company: _Company, first_period: np.datetime64
) -> _Customers:
    months = len(company.periods) - 1
    # Log-logistic sizes (median 1, a Pareto-like tail, capped at 20) spread evenly
    # over the distribution: the seed decides who is large, not how large the largest
    # are, which keeps the company's P&L steadier from seed to seed.
    quantile = (rng.permutation(count) + 0.5) / count
    size = np.minimum(np.exp(0.75 * np.log(quantile / (1 - quantile))), 20.0)
    # Scaled so that the average customer expects LINES_PER_CUSTOMER_MONTH lines a month.
    lines_per_month = LINES_PER_CUSTOMER_MONTH * size / size.mean()

    stories = _pick_story_customers(rng, size)
    project = stories["project_based_buyers"]
    heavy = stories["profitable_heavy_returners"]
    wallet = stories["small_share_of_wallet"]
    abusers = stories["return_abusers"]
    growers = stories["fast_growers"]
    service = stories["service_abusers"]
    planted = np.concatenate(list(stories.values()))

    # Some accounts ask for more of everything: deeper discounts, many small rush
    # orders, calls and visits. Among the large accounts they are the profit drains;
    # the planted profitable accounts are easy to serve.
    demanding = rng.standard_normal(count)
    demanding[np.concatenate([project, heavy])] = -1.5
    size[heavy] = np.maximum(size[heavy], 3.0)
    log_size = np.log(size)
    industry = rng.integers(0, len(_INDUSTRIES), count)
    region = rng.integers(0, len(_REGIONS), count)

    # Large accounts have an owner; most of the tail are house accounts.
    has_rep = rng.random(count) < np.clip(0.55 + 0.3 * log_size, 0.08, 0.97)
    # Reps work a territory: rep r covers region r mod 5.
    reps_in_region = (company.reps - np.arange(len(_REGIONS)) + len(_REGIONS) - 1) // len(_REGIONS)
    nth_rep = (rng.random(count) * reps_in_region[region]).astype(np.int64)
    rep = np.where(has_rep, region + len(_REGIONS) * nth_rep, -1)
    # Two reps (reps_with_desert_books) took on 80% of the small house accounts of their
    # territory, and drive out to them (below).
    small_house_account = (
        ~has_rep & (size < 0.6) & (company._rng("desert_books").random(count) < 0.8)
    )
    for visitor in company.tiny_account_visitors:
        taken_on = small_house_account & (region == visitor % len(_REGIONS))
        rep[taken_on] = visitor
        small_house_account &= ~taken_on
    has_rep = rep >= 0

    lines_per_order = np.clip((1 + 1.4 * size**0.55) / np.exp(0.45 * demanding), 1, 30)
    quantity_factor = size**0.22
    tier_preference = rng.lognormal(0, 0.5, count)
    digital = 1 / (1 + np.exp(-(1.3 * log_size + 0.8 * rng.standard_normal(count) - 0.3)))
    digital[np.concatenate([project, heavy])] = 0.95
    digital[abusers] = 0.1

    has_contract = ((size > 2.5) | (rng.random(count) < 0.03)) & ~np.isin(
        np.arange(count), np.concatenate([heavy, abusers, growers])
    )
    contract_discount = has_contract * np.clip(
        0.05 + 0.03 * log_size + 0.04 * demanding + rng.normal(0, 0.02, count), 0.02, 0.28
    )
    free_freight = has_contract & (rng.random(count) < 0.8)
    expedite_rate = np.minimum(
        0.6,
        np.where(rng.random(count) < 0.08, rng.beta(4, 10, count), rng.beta(1.2, 14, count))
        * np.exp(0.6 * demanding),
    )
    terms_days = np.where(
        has_contract, rng.choice([45, 60], count), rng.choice([30, 45], count, p=[0.8, 0.2])
    )
    late_payer = rng.random(count) < 0.2
    pay_delay = np.where(late_payer, rng.uniform(8, 45, count), rng.uniform(-5, 3, count))
    write_off_rate = np.zeros(count)
    # Bad debts come from mid-sized accounts: the smallest get no credit, the largest
    # are credit-insured.
    mid_sized = (size > np.quantile(size, 0.3)) & (size < np.quantile(size, 0.85))
    solvent_looking = np.setdiff1d(np.flatnonzero(mid_sized), planted)
    bad_payers = rng.choice(solvent_looking, max(2, count // 60), replace=False)
    write_off_rate[bad_payers] = 0.5

    return_rate = rng.beta(1.5, 60, count)
    return_rate[project] = 0.01
    return_rate[heavy] = 0.25
    return_rate[abusers] = 0.35
    # Abusers buy often enough for their returns to show.
    lines_per_month[abusers] = np.maximum(lines_per_month[abusers], 4.0)
    disposition_profile = np.zeros(count, dtype=np.int64)
    disposition_profile[abusers] = 1
    disposition_profile[heavy] = 2
    restocking_fee_rate = np.full(count, 0.6)
    restocking_fee_rate[heavy] = 0.9

    contacts_per_month = 0.3 * size**0.35 * rng.lognormal(0, 0.8, count) * np.exp(0.5 * demanding)
    contacts_per_month[service] = 6.0
    contact_storms = np.zeros(count, dtype=np.int64)
    contact_storms[service] = 3
    # visits, calls and quotes a month (ACTIVITY_KINDS order)
    activities = (
        np.stack(
            [
                np.minimum(0.15 * size**0.5, 3.0),
                np.minimum(0.6 * size**0.4, 8.0),
                np.minimum(0.25 * size**0.4, 4.0),
            ],
            axis=1,
        )
        * (has_rep * np.exp(0.4 * demanding))[:, None]
    )
    activities[~has_rep, 2] = 0.02  # house accounts ask for the odd quote
    visited_anyway = np.isin(rep, company.tiny_account_visitors) & (size < 0.6)
    activities[visited_anyway, 0] = 0.45

    # Most accounts predate the data; some open during it, a few stop buying. Planted
    # accounts were already buying before the data starts and never stop.
    first_day = first_period.astype("datetime64[D]")
    is_new = (rng.random(count) < 0.12) & ~np.isin(np.arange(count), planted)
    first_month = np.where(is_new, rng.integers(0, months, count), -1)
    # New accounts are opened shortly before their first order.
    created_date = np.where(
        is_new,
        (first_period + first_month).astype("datetime64[D]") - rng.integers(0, 20, count),
        first_day - rng.integers(30, 5475, count),
    )
    churns = (rng.random(count) < 0.06) & ~np.isin(np.arange(count), planted)
    churn_month = np.where(
        churns, np.maximum(first_month + 3, rng.integers(1, months + 1, count)), months + 1
    )
    growth = rng.normal(0.04, 0.12, count)
    growth[project] = 0.0
    project_based = np.isin(np.arange(count), project)

    # Growing sixfold a year from almost nothing, in small baskets of cheap items:
    # about 40 lines over the latest year, 7 the year before, still a small account.
    growth[growers] = np.log(6.0)
    lines_per_month[growers] = 7.0
    lines_per_order[growers] = 2.0
    quantity_factor[growers] = 0.25
    tier_preference[growers] = 0.5

    # Heavy returners buy premium brands at list price in large EDI orders, of large
    # lines: at 1.8 times the usual quantity one of them (of 173 lines a year, 794
    # sales minutes) kept a net margin of 0.8% against the company's 3.9%, a profit
    # drain, depending on which families its lines happened to draw.
    lines_per_month[heavy] = np.maximum(lines_per_month[heavy], 15.0)
    lines_per_order[heavy] = 8.0
    quantity_factor[heavy] = 2.4
    tier_preference[heavy] = 2.5

    # Easy, large accounts recommend us to their peers (referral_channel).
    easy = log_size - demanding
    assortment, affinity, adoption_month = _assortments(company, industry, lines_per_month, planted)

    # What a customer would spend with us in a year, to state its whole spend from its
    # share of wallet (an estimate the sales team keeps, rounded to hundreds).
    wallet_share = rng.uniform(0.2, 0.7, count)
    wallet_share[wallet] = rng.uniform(0.02, 0.05, len(wallet))
    expected_year_cents = 12 * lines_per_month * _MEAN_LINE_CENTS * quantity_factor
    est_annual_spend = np.rint(expected_year_cents / wallet_share / 10_000) * 10_000
    employee_count = np.rint(12 * size**0.8 * rng.lognormal(0, 0.5, count)) + 2
    employee_count[wallet] *= 10

    return _Customers(
        count=count,
        industry=industry,
        region=region,
        rep=rep,
        size=size,
        created_date=created_date,
        first_month=first_month,
        churn_month=churn_month,
        growth=growth,
        orders_per_month=lines_per_month / lines_per_order,
        lines_per_order=lines_per_order,
        quantity_factor=quantity_factor,
        channel_cdf=np.cumsum(_order_channel_mix(rng, digital, has_rep), axis=1),
        tier_preference=tier_preference,
        contract_discount=contract_discount,
        promo_rate=np.where(has_contract, 0.0, 0.08),
        free_freight=free_freight,
        expedite_rate=expedite_rate,
        will_call_rate=np.where(rng.random(count) < 0.06, 0.5, 0.02),
        terms_days=terms_days,
        pay_delay_days=pay_delay,
        partial_rate=np.where(rng.random(count) < 0.08, 0.35, 0.03),
        write_off_rate=write_off_rate,
        return_rate=return_rate,
        disposition_profile=disposition_profile,
        restocking_fee_rate=restocking_fee_rate,
        contacts_per_month=contacts_per_month,
        contact_storms=contact_storms,
        activities_per_month=activities,
        project_based=project_based,
        employee_count=employee_count.astype(np.int64),
        est_annual_spend_cents=est_annual_spend.astype(np.int64),
        acquisition_channel=_referrals_bring_the_best(
            company, rng.choice(len(_ACQUISITION_CHANNELS), count, p=_ACQUISITION_MIX), easy
        ),
        assortment=assortment,
        affinity=affinity,
        adoption_month=adoption_month,
        name=_customer_names(rng, industry),
        story_members=stories,
    )


def _assortments(
    company: _Company, industry: np.ndarray, lines_per_month: np.ndarray, planted: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customer x family: what each customer buys from the start; per customer, the
    affinity it belongs to (-1: none) and the month index at which it takes up its B."""
    cat = company.catalogue
    rng = company._rng("assortments")
    count, families = len(industry), len(cat.family_start)
    family_count = np.clip(
        np.floor(12 * lines_per_month / _LINES_PER_FAMILY_YEAR), 1, families
    ).astype(np.int64)
    # The planted customers of the other stories buy as they were calibrated: everything.
    family_count[planted] = families
    buys_everything = family_count == families
    # Drawn by the industry's mix without replacement (exponential keys over weights,
    # the smallest first); nobody starts with an affinity's B but who buys everything.
    keys = rng.exponential(size=(count, families)) / cat.family_mix[industry]
    keys[np.ix_(~buys_everything, cat.affinity_families[:, 1])] = np.inf
    rank = np.argsort(np.argsort(keys, axis=1), axis=1)
    assortment = rank < family_count[:, None]
    affinity = np.where(
        (rng.random(count) < _AFFINITY_MEMBER_SHARE) & ~buys_everything,
        rng.integers(0, len(cat.affinity_families), count),
        -1,
    )
    member = affinity >= 0
    assortment[member, cat.affinity_families[affinity[member], 0]] = True
    adoption_month = _AFFINITY_ADOPTION_START + rng.integers(0, _AFFINITY_ADOPTION_MONTHS, count)
    return assortment, affinity, adoption_month


def _referrals_bring_the_best(
    company: _Company, channel: np.ndarray, easy: np.ndarray
) -> np.ndarray:
    """Most of the easiest, largest 30% of accounts came by referral, few of the rest."""
    rng = company._rng("referrals")
    count = len(channel)
    referral = _ACQUISITION_CHANNELS.index("referral")
    easy_rank = np.argsort(np.argsort(-easy)) / count  # 0 = the easiest
    other_mix = np.delete(np.array(_ACQUISITION_MIX), referral)
    others = np.delete(np.arange(len(_ACQUISITION_CHANNELS)), referral)
    other_channel = rng.choice(others, count, p=other_mix / other_mix.sum())
    draw = rng.random(count)
    channel = np.where((easy_rank < 0.3) & (draw < 0.7), referral, channel)
    sent_elsewhere = (easy_rank >= 0.5) & (channel == referral) & (draw < 0.7)
    return np.where(sent_elsewhere, other_channel, channel)


def _pick_story_customers(rng: np.random.Generator, size: np.ndarray) -> dict[str, np.ndarray]:
    """A few customers per planted story, by size band, never one customer twice."""
    count = len(size)
    per_story = int(np.clip(count // 100, 3, 10))
    size_rank = np.argsort(np.argsort(size)) / count  # 0 = smallest
    taken = np.zeros(count, dtype=bool)
    size_bands = {
        "project_based_buyers": (0.88, 0.98),
        "profitable_heavy_returners": (0.6, 0.9),
        "return_abusers": (0.4, 0.8),
        "small_share_of_wallet": (0.3, 0.75),
        "fast_growers": (0.1, 0.45),
        "service_abusers": (0.2, 0.8),
    }
    stories = {}
    for story, (low, high) in size_bands.items():
        candidates = np.flatnonzero((size_rank >= low) & (size_rank < high) & ~taken)
        stories[story] = np.sort(rng.choice(candidates, per_story, replace=False))
        taken[stories[story]] = True
    return stories


def _order_channel_mix(
    rng: np.random.Generator, digital: np.ndarray, has_rep: np.ndarray
) -> np.ndarray:
    """Customer x order channel probabilities (ORDER_CHANNELS order): digital accounts
    order by EDI and web, the others by hand."""
    count = len(digital)
    edi = 0.8 * digital**2
    web = 0.15 + 0.5 * digital * (1 - digital)
    # Hand-keyed orders: phone, e-mail, fax (a tenth of customers still love it) and
    # orders taken by the account's rep.
    rep = np.where(has_rep, 0.17, 0.0)
    by_hand = {
        "phone": 0.57 - rep,
        "email": np.full(count, 0.35),
        "fax": np.where(rng.random(count) < 0.1, 0.40, 0.08),
        "rep": rep,
    }
    by_hand_total = sum(by_hand.values())
    mix = {"web": web, "edi": edi}
    mix.update({ch: (1 - edi - web) * share / by_hand_total for ch, share in by_hand.items()})
    return np.column_stack([mix[channel] for channel in ORDER_CHANNELS])


def _customer_names(rng: np.random.Generator, industry: np.ndarray) -> pa.Array:
    count = len(industry)
    noun_counts = np.array([len(nouns) for nouns in _NAME_NOUNS])
    noun_start = np.cumsum(noun_counts) - noun_counts
    noun = noun_start[industry] + (rng.random(count) * noun_counts[industry]).astype(np.int64)
    suffix = np.where(
        industry == _INDUSTRIES.index("government"), 0, rng.integers(0, len(_NAME_SUFFIXES), count)
    )
    place_and_noun = pc.binary_join_element_wise(
        _labels(_NAME_PLACES, rng.integers(0, len(_NAME_PLACES), count)),
        _labels(tuple(noun for nouns in _NAME_NOUNS for noun in nouns), noun),
        " ",
    )
    return pc.binary_join_element_wise(place_and_noun, _labels(_NAME_SUFFIXES, suffix), "")


# --- small vectorised helpers --------------------------------------------------------


def _carrier_cents(weight_kg: np.ndarray, expedited: np.ndarray) -> np.ndarray:
    """What a carrier charges for a shipment, on average: parcel rates, LTL when heavy."""
    parcel = 600 + 28 * weight_kg
    pallet = 7_000 + 7 * weight_kg
    cost = np.where(weight_kg > _PARCEL_MAX_KG, pallet, parcel)
    return cost * np.where(expedited, _EXPEDITED_FREIGHT_FACTOR, 1.0)


def _draw_rows(rng: np.random.Generator, cdf: np.ndarray) -> np.ndarray:
    """One category per row of a matrix of cumulative probabilities."""
    draw = rng.random(len(cdf))
    return np.minimum((draw[:, None] > cdf).sum(axis=1), cdf.shape[1] - 1)


def _draw_by_customer(
    rng: np.random.Generator, cdf: np.ndarray, customer: np.ndarray
) -> np.ndarray:
    """One category per row of `customer`, from that customer's row of cumulative
    probabilities: one search in the rows laid end to end, customer i's row shifted by
    i, without a lines x categories matrix (420,000 x 35 in a month of 58,000
    customers)."""
    categories = cdf.shape[1]
    shifted = (cdf + np.arange(len(cdf))[:, None]).ravel()
    found = np.searchsorted(shifted, customer + rng.random(len(customer)), side="right")
    return np.clip(found - customer * categories, 0, categories - 1)


def _sum_by_invoice(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    # Lines are stored invoice by invoice and every invoice has at least one line.
    if len(starts) == 0:
        return values[:0]
    return np.add.reduceat(values, starts)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _invoice_ids(numbers: np.ndarray) -> pa.Array:
    return _ids("INV", numbers, 8)


def _customer_ids(numbers: np.ndarray) -> pa.Array:
    return _ids("C", np.asarray(numbers) + 1, 6)


def _rep_ids(numbers: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    ids = _ids("REP", np.asarray(numbers) + 1, 2)
    return ids if valid is None else pc.if_else(pa.array(valid), ids, pa.scalar(None, pa.string()))


def _labels(values: tuple[str, ...], index: np.ndarray) -> pa.Array:
    """Text column from category numbers; -1 is null."""
    index = np.asarray(index, dtype=np.int64)
    return pc.take(pa.array(values), pa.array(index, mask=index < 0))


def _decimal(units: np.ndarray, places: int, valid: np.ndarray | None = None) -> pa.Array:
    """Exact decimal(18, places) from integer counts of 10**-places (cents, grams)."""
    units = np.ascontiguousarray(units, dtype=np.int64)
    # decimal128 is a little-endian 128-bit integer: the value, then its sign extension.
    words = np.column_stack([units, units >> 63]).ravel()
    validity = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(
        pa.decimal128(18, places), len(units), [validity, pa.py_buffer(words)]
    )


def _table(name: str, **columns: pa.Array) -> pa.Table:
    """The contract's columns, in the contract's order."""
    expected = TABLES[name].column_names
    if list(columns) != expected:
        raise AssertionError(f"{name}: columns {list(columns)} differ from contract {expected}")
    return pa.table(columns)


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
