"""The demo company's customers: who they are (industry, region, size, name, rep,
acquisition channel) and how each one behaves (orders a month, lines an order,
channels, discounts, freight, payment, returns, service and sales contact, assortment
of families), one array element per customer, drawn once per seed.

Kept apart from the month's orders (orders.py) because it is drawn once, before the
first month: the orders read these arrays and never change them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.contract import ORDER_CHANNELS
from pipelines.demo.columns import arrow_table, customer_ids, decimal_column, label_column, rep_ids
from pipelines.demo.stories import (
    AFFINITY_ADOPTION_MONTHS,
    AFFINITY_ADOPTION_START,
    AFFINITY_MEMBER_SHARE,
    LINES_PER_FAMILY_YEAR,
    pick_story_customers,
)

if TYPE_CHECKING:
    from pipelines.demo.company import Company


# Expected invoice lines of an average customer in an average month, before
# new accounts, churn, growth and seasonality.
LINES_PER_CUSTOMER_MONTH = 8.0
# An occasional buyer (write_demo_erp's occasional_share) orders this many times less
# often than its size says: about once a year instead of about twice a month.
OCCASIONAL_SLOWDOWN = 24.0
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

# How much each industry buys of each category (columns in CATEGORIES order).
CATEGORY_MIX = np.array(
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
_ACQUISITION_CHANNELS = ("referral", "web", "trade_show", "rep", "catalog")
_ACQUISITION_MIX = (0.30, 0.25, 0.15, 0.22, 0.08)

# Average value of an order line of a median-sized customer, to estimate yearly spend.
_MEAN_LINE_CENTS = 10_000


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
    disposition_profile: np.ndarray  # row of DISPOSITION_MIX
    restocking_fee_rate: np.ndarray
    contacts_per_month: np.ndarray
    contact_storms: np.ndarray  # service abusers: days with 10+ contacts
    activities_per_month: np.ndarray  # customer x activity kind
    project_based: np.ndarray
    employee_count: np.ndarray
    est_annual_spend_cents: np.ndarray
    acquisition_channel: np.ndarray
    assortment: np.ndarray  # customer x family: the families it buys from the start
    affinity: np.ndarray  # index into FAMILY_AFFINITIES, -1 = none
    adoption_month: np.ndarray  # month index from which a member buys its affinity's B
    name: pa.Array
    story_members: dict[str, np.ndarray]


def customers_table(company: Company) -> pa.Table:
    c = company.customers
    has_rep = c.rep >= 0
    return arrow_table(
        "customers",
        customer_id=customer_ids(np.arange(c.count)),
        customer_name=c.name,
        industry=label_column(_INDUSTRIES, c.industry),
        region=label_column(_REGIONS, c.region),
        created_date=pa.array(c.created_date),
        sales_rep_id=rep_ids(np.where(has_rep, c.rep, 0), valid=has_rep),
        employee_count=pa.array(c.employee_count, pa.int64()),
        est_annual_spend=decimal_column(c.est_annual_spend_cents, 2),
        acquisition_channel=label_column(_ACQUISITION_CHANNELS, c.acquisition_channel),
    )


def build_customers(
    rng: np.random.Generator, count: int, company: Company, first_period: np.datetime64
) -> _Customers:
    months = len(company.periods) - 1
    # Log-logistic sizes (median 1, a Pareto-like tail, capped at 20) spread evenly
    # over the distribution: the seed decides who is large, not how large the largest
    # are, which keeps the company's P&L steadier from seed to seed.
    quantile = (rng.permutation(count) + 0.5) / count
    size = np.minimum(np.exp(0.75 * np.log(quantile / (1 - quantile))), 20.0)
    # Scaled so that the average customer expects LINES_PER_CUSTOMER_MONTH lines a month.
    lines_per_month = LINES_PER_CUSTOMER_MONTH * size / size.mean()

    stories = pick_story_customers(rng, size)
    project = stories["project_based_buyers"]
    heavy = stories["profitable_heavy_returners"]
    wallet = stories["small_share_of_wallet"]
    abusers = stories["return_abusers"]
    growers = stories["fast_growers"]
    service = stories["service_abusers"]
    planted = np.concatenate(list(stories.values()))
    is_planted = np.isin(np.arange(count), planted)

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
        ~has_rep & (size < 0.6) & (company.rng("desert_books").random(count) < 0.8)
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
    is_new = (rng.random(count) < 0.12) & ~is_planted
    first_month = np.where(is_new, rng.integers(0, months, count), -1)
    # New accounts are opened shortly before their first order.
    created_date = np.where(
        is_new,
        (first_period + first_month).astype("datetime64[D]") - rng.integers(0, 20, count),
        first_day - rng.integers(30, 5475, count),
    )
    churns = (rng.random(count) < 0.06) & ~is_planted
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

    # A company whose accounts mostly buy rarely (the bench's long history): the share
    # drawn from a stream of its own, so that a share of 0 leaves every other draw as it
    # was; the planted stories keep their buying.
    occasional = (company.rng("occasional").random(count) < company.occasional_share) & ~is_planted
    lines_per_month[occasional] /= OCCASIONAL_SLOWDOWN

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
    company: Company, industry: np.ndarray, lines_per_month: np.ndarray, planted: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customer x family: what each customer buys from the start; per customer, the
    affinity it belongs to (-1: none) and the month index at which it takes up its B."""
    cat = company.catalogue
    rng = company.rng("assortments")
    count, families = len(industry), len(cat.family_start)
    family_count = np.clip(
        np.floor(12 * lines_per_month / LINES_PER_FAMILY_YEAR), 1, families
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
        (rng.random(count) < AFFINITY_MEMBER_SHARE) & ~buys_everything,
        rng.integers(0, len(cat.affinity_families), count),
        -1,
    )
    member = affinity >= 0
    assortment[member, cat.affinity_families[affinity[member], 0]] = True
    adoption_month = AFFINITY_ADOPTION_START + rng.integers(0, AFFINITY_ADOPTION_MONTHS, count)
    return assortment, affinity, adoption_month


def _referrals_bring_the_best(
    company: Company, channel: np.ndarray, easy: np.ndarray
) -> np.ndarray:
    """Most of the easiest, largest 30% of accounts came by referral, few of the rest."""
    rng = company.rng("referrals")
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
        label_column(_NAME_PLACES, rng.integers(0, len(_NAME_PLACES), count)),
        label_column(tuple(noun for nouns in _NAME_NOUNS for noun in nouns), noun),
        " ",
    )
    return pc.binary_join_element_wise(place_and_noun, label_column(_NAME_SUFFIXES, suffix), "")
