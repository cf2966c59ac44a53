"""The facts of each month of the demo: what the customers order and what follows
from it (invoices and their lines, prices and freight and the reps' waivers, shipments,
returns, payments, policy overrides, service contacts and sales activities), and the
Arrow tables of those facts.

Kept apart from the company (company.py, which runs the months and books the pools and
the ledger) and from the customers (customers.py, who they are): this is the part that
draws again every month. Facts dated after the month that caused them wait in the
company's backlog (`Backlog`) until their month is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.contract import (
    ACTIVITY_KINDS,
    CONTACT_CHANNELS,
    DISPOSITIONS,
    MANUAL_ORDER_CHANNELS,
    ORDER_CHANNELS,
    PAYMENT_KINDS,
    POLICIES,
    SHIP_METHODS,
)
from pipelines.demo.columns import (
    arrow_table,
    customer_ids,
    decimal_column,
    draw_by_customer,
    draw_rows,
    id_column,
    invoice_ids,
    label_column,
    rep_ids,
    sum_by_invoice,
)
from pipelines.demo.stories import AFFINITY_LINE_SHARE

if TYPE_CHECKING:
    from pipelines.demo.company import Company


CURRENCY = "USD"
IS_MANUAL_CHANNEL = np.isin(ORDER_CHANNELS, MANUAL_ORDER_CHANNELS)
_STANDARD = SHIP_METHODS.index("standard")
EXPEDITED = SHIP_METHODS.index("expedited")
_WILL_CALL = SHIP_METHODS.index("will_call")
_WAREHOUSES = ("WH-NJ", "WH-GA", "WH-IL", "WH-TX", "WH-CA")  # one per region, same order
_SEASONALITY = (0.90, 0.96, 1.05, 1.06, 1.07, 1.03, 0.94, 0.99, 1.05, 1.08, 1.00, 0.87)
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
RETURN_REASONS = ("damaged", "wrong_item", "not_needed", "defective", "unclear_instructions")

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
DISPOSITION_MIX = np.array([[0.55, 0.25, 0.20], [0.10, 0.35, 0.55], [0.92, 0.04, 0.04]])
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


def buying_activity(company: Company, month_index: int) -> np.ndarray:
    """How much each customer buys this month relative to its usual month."""
    c = company.customers
    alive = (c.first_month <= month_index) & (month_index < c.churn_month)
    months_from_end = month_index - company.last_closed_index
    month_of_year = int(str(company.periods[month_index])[5:7]) - 1
    in_latest_year = months_from_end > -12
    project_cycle = np.where(c.project_based, np.where(in_latest_year, 0.01, 1.3), 1.0)
    growth = np.exp(c.growth * months_from_end / 12)
    return alive * growth * project_cycle * _SEASONALITY[month_of_year]


def invoices(company: Company, month_index: int, activity: np.ndarray, days: np.ndarray) -> dict:
    c = company.customers
    rng = company.rng("invoices", month_index)
    per_customer = rng.poisson(c.orders_per_month * activity)
    customer = np.repeat(np.arange(c.count), per_customer)
    count = len(customer)
    invoice_date = rng.choice(days, count)
    chronological = np.lexsort((customer, invoice_date))
    customer, invoice_date = customer[chronological], invoice_date[chronological]

    channel = draw_rows(rng, c.channel_cdf[customer])
    # EDI orders are invoiced the day they arrive; hand-keyed ones wait a day or two.
    order_lag = rng.integers(0, np.where(IS_MANUAL_CHANNEL[channel], 4, 2))
    draw = rng.random(count)
    expedite_rate = c.expedite_rate[customer]
    ship_method = np.select(
        [draw < c.will_call_rate[customer], draw > 1 - expedite_rate],
        [_WILL_CALL, EXPEDITED],
        _STANDARD,
    )
    return {
        "seq": company.take_ids("invoice", count),
        "customer": customer,
        "rep": c.rep[customer],
        "invoice_date": invoice_date,
        "order_date": invoice_date - order_lag,
        "channel": channel,
        "ship_method": ship_method,
        "terms_days": c.terms_days[customer],
    }


def invoice_lines(company: Company, month_index: int, orders: dict) -> dict:
    c, cat = company.customers, company.catalogue
    rng = company.rng("lines", month_index)
    invoice_customer = orders["customer"]
    per_invoice = 1 + np.minimum(rng.poisson(c.lines_per_order[invoice_customer] - 1), 59).astype(
        np.int64
    )
    invoice = np.repeat(np.arange(len(invoice_customer)), per_invoice)
    starts = np.cumsum(per_invoice) - per_invoice
    line_number = np.arange(len(invoice)) - starts[invoice] + 1
    customer = invoice_customer[invoice]
    count = len(invoice)

    family = draw_by_customer(rng, _family_cdf(company, month_index), customer)
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
    unit_cost_cents = np.rint(cat.cost_cents[sku] * rng.normal(1.0, 0.025, count)).astype(np.int64)
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


def _family_cdf(company: Company, month_index: int) -> np.ndarray:
    """Customer x family, cumulative: how likely a line of the month is of each family."""
    c, cat = company.customers, company.catalogue
    taken_up = np.zeros_like(c.assortment)
    adopters = np.flatnonzero((c.affinity >= 0) & (c.adoption_month <= month_index))
    taken_up[adopters, cat.affinity_families[c.affinity[adopters], 1]] = True
    # Accounts that buy everything follow their industry's mix; the others spread
    # their lines evenly over their assortment, so that no family of it is rare.
    buys_everything = c.assortment.all(axis=1, keepdims=True)
    weights = np.where(buys_everything, cat.family_mix[c.industry], 1.0) * c.assortment
    weights /= weights.sum(axis=1, keepdims=True)
    # Adopters put a fixed share of their lines into the family they took up.
    weights = weights * (1 - AFFINITY_LINE_SHARE * taken_up.any(axis=1, keepdims=True))
    weights += AFFINITY_LINE_SHARE * taken_up
    return np.cumsum(weights, axis=1)


def price_freight_and_waivers(
    company: Company, month_index: int, orders: dict, lines: dict
) -> None:
    """Bill freight and expediting by policy, unless the customer's rep waives it."""
    c = company.customers
    rng = company.rng("freight", month_index)
    customer, rep = orders["customer"], orders["rep"]
    count = len(customer)
    starts = lines["starts"]
    net_cents = sum_by_invoice(lines["net_cents"], starts)
    weight_g = sum_by_invoice(lines["quantity"] * lines["unit_weight_g"], starts)
    expedited = orders["ship_method"] == EXPEDITED
    has_rep = rep >= 0
    waiver_rate = np.where(has_rep, company.rep_override_rate[np.maximum(rep, 0)], 0.0)

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
    promo_invoice = sum_by_invoice(lines["promo_small_customer"].astype(np.int64), starts) > 0
    discount_allowed = has_rep & promo_invoice & (rng.random(count) < waiver_rate * 0.5)

    orders.update(
        net_cents=net_cents,
        weight_g=weight_g,
        has_backorder=sum_by_invoice(lines["backordered"].astype(np.int64), starts) > 0,
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
        _schedule_overrides(
            company, rng, orders["seq"][waived], rep[waived], orders["invoice_date"][waived], policy
        )


def _schedule_overrides(
    company: Company,
    rng: np.random.Generator,
    invoice_seq: np.ndarray,
    rep: np.ndarray,
    date: np.ndarray,
    policy: str,
) -> None:
    count = len(invoice_seq)
    company.backlog.add(
        "overrides",
        date,
        seq=company.take_ids("override", count),
        invoice_seq=invoice_seq,
        rep=rep,
        policy=np.full(count, POLICIES.index(policy)),
        reason=np.where(
            rng.random(count) < 0.15, -1, rng.integers(0, len(_OVERRIDE_REASONS), count)
        ),
    )


def schedule_shipments(company: Company, month_index: int, orders: dict) -> int:
    """Ship every invoice that is not picked up, backorders later; returns the count."""
    rng = company.rng("shipments", month_index)
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
    expedited = orders["ship_method"][invoice] == EXPEDITED
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
    company.backlog.add(
        "shipments",
        ship_date,
        seq=company.take_ids("shipment", len(invoice)),
        invoice_seq=orders["seq"][invoice],
        carrier=carrier,
        weight_g=weight_g,
        freight_cost_cents=freight_cost,
    )
    return len(invoice)


def schedule_returns(company: Company, month_index: int, orders: dict, lines: dict) -> None:
    """Decide now which lines come back, when and how, up to what was sold."""
    c, cat = company.customers, company.catalogue
    rng = company.rng("returns", month_index)
    customer = orders["customer"][lines["invoice"]]
    is_returned = rng.random(len(customer)) < c.return_rate[customer]
    _schedule_returned_lines(company, rng, orders, lines, np.flatnonzero(is_returned))
    # The planted SKUs' extra returns draw from their own stream, so the usual
    # returns stay as they were.
    planted_rng = company.rng("planted_returns", month_index)
    planted_rate = cat.planted_return_rate[lines["sku"]]
    planted = ~is_returned & (planted_rng.random(len(customer)) < planted_rate)
    _schedule_returned_lines(
        company, planted_rng, orders, lines, np.flatnonzero(planted), cat.planted_reason
    )


def _schedule_returned_lines(
    company: Company,
    rng: np.random.Generator,
    orders: dict,
    lines: dict,
    returned: np.ndarray,
    reason_by_sku: np.ndarray | None = None,
) -> None:
    c = company.customers
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

    disposition = draw_rows(rng, np.cumsum(DISPOSITION_MIX, 1)[c.disposition_profile[customer]])
    reason = draw_rows(rng, np.cumsum(_REASON_MIX, 1)[disposition])
    reason = np.where(rng.random(count) < 0.03, -1, reason)
    if reason_by_sku is not None:
        planted_reason = reason_by_sku[lines["sku"][line]]
        reason = np.where(planted_reason >= 0, planted_reason, reason)
    credit_cents = quantity * lines["price_cents"][line]
    fee_applies = (disposition == DISPOSITIONS.index("restock")) & np.isin(
        reason, [RETURN_REASONS.index("not_needed"), RETURN_REASONS.index("wrong_item")]
    )
    rep = c.rep[customer]
    waiver_rate = np.where(rep >= 0, company.rep_override_rate[np.maximum(rep, 0)], 0.0)
    fee_waived = fee_applies & (rng.random(count) < waiver_rate)
    fee_charged = fee_applies & ~fee_waived & (rng.random(count) < c.restocking_fee_rate[customer])
    fee_cents = np.where(fee_charged, np.rint(credit_cents * _RESTOCKING_FEE_RATE), 0)

    invoice_seq = orders["seq"][lines["invoice"][line]]
    company.backlog.add(
        "returns",
        date,
        seq=company.take_ids("return", count),
        invoice_seq=invoice_seq,
        line_number=lines["line_number"][line],
        quantity=quantity,
        credit_cents=credit_cents,
        reason=reason,
        disposition=disposition,
        fee_cents=fee_cents.astype(np.int64),
    )
    _schedule_overrides(
        company, rng, invoice_seq[fee_waived], rep[fee_waived], date[fee_waived], "restocking_fee"
    )


def schedule_payments(company: Company, month_index: int, orders: dict) -> None:
    """Plan every payment of this month's invoices: on time, late, in parts or never."""
    c = company.customers
    rng = company.rng("payments", month_index)
    customer = orders["customer"]
    count = len(customer)
    total = orders["net_cents"] + orders["freight_charged_cents"] + orders["expedite_charged_cents"]
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
    company.backlog.add(
        "payments",
        date,
        seq=company.take_ids("payment", len(invoice)),
        invoice_seq=orders["seq"][invoice],
        amount_cents=amount,
        kind=kind,
    )


def service_contacts(
    company: Company, month_index: int, activity: np.ndarray, days: np.ndarray
) -> pa.Table:
    c = company.customers
    rng = company.rng("service", month_index)
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

    channel = draw_rows(rng, np.broadcast_to(np.cumsum(_CONTACT_CHANNEL_MIX), (count, 4)))
    minutes_tenths = np.maximum(
        5, np.rint(10 * _CONTACT_MINUTES[channel] * rng.lognormal(-0.18, 0.6, count))
    ).astype(np.int64)
    seconds_into_day = rng.integers(7 * 3600, 18 * 3600, count)
    timestamp = day.astype("datetime64[s]") + seconds_into_day
    order = np.lexsort((customer, timestamp))
    reason = np.where(rng.random(count) < 0.05, -1, rng.integers(0, len(_SERVICE_REASONS), count))
    return arrow_table(
        "service_contacts",
        contact_id=id_column("SC", company.take_ids("contact", count), 9),
        customer_id=customer_ids(customer[order]),
        contact_ts=pa.array(timestamp[order]),
        channel=label_column(CONTACT_CHANNELS, channel[order]),
        minutes=decimal_column(minutes_tenths[order], 1),
        reason_code=label_column(_SERVICE_REASONS, reason[order]),
    )


def sales_activities(
    company: Company,
    month_index: int,
    activity: np.ndarray,
    days: np.ndarray,
    share_of_month: float,
) -> pa.Table:
    c = company.customers
    rng = company.rng("sales", month_index)
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
    rep = np.where(covering, rng.integers(0, company.reps, count), own_rep)
    minutes = np.maximum(
        5, np.rint(_ACTIVITY_MINUTES[kind] * rng.lognormal(-0.12, 0.5, count))
    ).astype(np.int64)
    date = rng.choice(days, count)
    order = np.lexsort((customer, date))
    return arrow_table(
        "sales_activities",
        activity_id=id_column("SA", company.take_ids("activity", count), 9),
        customer_id=customer_ids(customer[order]),
        rep_id=rep_ids(rep[order]),
        activity_date=pa.array(date[order]),
        kind=label_column(ACTIVITY_KINDS, kind[order]),
        minutes=decimal_column(minutes[order], 0),
    )


def invoices_table(company: Company, orders: dict) -> pa.Table:
    rep = orders["rep"]
    count = len(rep)
    return arrow_table(
        "invoices",
        invoice_id=invoice_ids(orders["seq"]),
        customer_id=customer_ids(orders["customer"]),
        order_date=pa.array(orders["order_date"]),
        invoice_date=pa.array(orders["invoice_date"]),
        sales_rep_id=rep_ids(np.maximum(rep, 0), valid=rep >= 0),
        order_channel=label_column(ORDER_CHANNELS, orders["channel"]),
        ship_method=label_column(SHIP_METHODS, orders["ship_method"]),
        freight_charged=decimal_column(orders["freight_charged_cents"], 2),
        expedite_charged=decimal_column(orders["expedite_charged_cents"], 2),
        payment_terms_days=pa.array(orders["terms_days"], pa.int64()),
        currency=label_column((CURRENCY,), np.zeros(count, dtype=np.int64)),
    )


def invoice_lines_table(company: Company, orders: dict, lines: dict) -> pa.Table:
    return arrow_table(
        "invoice_lines",
        invoice_id=invoice_ids(orders["seq"][lines["invoice"]]),
        line_number=pa.array(lines["line_number"], pa.int64()),
        sku=pc.take(pa.array(company.catalogue.sku), pa.array(lines["sku"])),
        quantity=decimal_column(lines["quantity"], 0),
        unit_list_price=decimal_column(lines["list_cents"], 2),
        unit_price=decimal_column(lines["price_cents"], 2),
        discount_code=label_column(_DISCOUNT_CODES, lines["discount_code"]),
        unit_cost=decimal_column(lines["unit_cost_cents"], 2, valid=lines["has_unit_cost"]),
        warehouse_id=label_column(_WAREHOUSES, lines["warehouse"]),
        backordered=pa.array(lines["backordered"]),
    )


def shipments_table(company: Company, shipments: dict) -> pa.Table:
    return arrow_table(
        "shipments",
        shipment_id=id_column("SHP", shipments["seq"], 9),
        invoice_id=invoice_ids(shipments["invoice_seq"]),
        carrier=label_column(_CARRIERS, shipments["carrier"]),
        ship_date=pa.array(shipments["date"]),
        weight_kg=decimal_column(shipments["weight_g"], 3),
        freight_cost=decimal_column(shipments["freight_cost_cents"], 2),
    )


def returns_table(company: Company, returns: dict) -> pa.Table:
    return arrow_table(
        "returns",
        return_id=id_column("RMA", returns["seq"], 8),
        invoice_id=invoice_ids(returns["invoice_seq"]),
        line_number=pa.array(returns["line_number"], pa.int64()),
        return_date=pa.array(returns["date"]),
        quantity=decimal_column(returns["quantity"], 0),
        credit_amount=decimal_column(returns["credit_cents"], 2),
        reason_code=label_column(RETURN_REASONS, returns["reason"]),
        disposition=label_column(DISPOSITIONS, returns["disposition"]),
        restocking_fee_charged=decimal_column(returns["fee_cents"], 2),
    )


def payments_table(company: Company, payments: dict) -> pa.Table:
    return arrow_table(
        "payments",
        payment_id=id_column("PAY", payments["seq"], 9),
        invoice_id=invoice_ids(payments["invoice_seq"]),
        payment_date=pa.array(payments["date"]),
        amount=decimal_column(payments["amount_cents"], 2),
        kind=label_column(PAYMENT_KINDS, payments["kind"]),
    )


def overrides_table(company: Company, overrides: dict) -> pa.Table:
    return arrow_table(
        "policy_overrides",
        override_id=id_column("OVR", overrides["seq"], 8),
        invoice_id=invoice_ids(overrides["invoice_seq"]),
        rep_id=rep_ids(overrides["rep"]),
        policy=label_column(POLICIES, overrides["policy"]),
        override_date=pa.array(overrides["date"]),
        reason=label_column(_OVERRIDE_REASONS, overrides["reason"]),
    )


class Backlog:
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


def _carrier_cents(weight_kg: np.ndarray, expedited: np.ndarray) -> np.ndarray:
    """What a carrier charges for a shipment, on average: parcel rates, LTL when heavy."""
    parcel = 600 + 28 * weight_kg
    pallet = 7_000 + 7 * weight_kg
    cost = np.where(weight_kg > _PARCEL_MAX_KG, pallet, parcel)
    return cost * np.where(expedited, _EXPEDITED_FREIGHT_FACTOR, 1.0)
