"""The demo's planted stories: what the analysis must find in the demo extract, and the
list of them that `DemoSummary.stories` returns.

Kept apart from the company and its customers so that one module names every story the
tests and the docs rely on: the customers picked for each customer story (by size band,
never one twice), the SKUs, families and reps of the desert portal's stories, and the
numbers that make them show. The company and the customers read these numbers; they do
not pick stories themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pipelines.demo.columns import customer_ids, rep_ids

if TYPE_CHECKING:
    from pipelines.demo.company import Company


# Three vests a unit apart in list margin (5.87, 3.12 and 1.14 USD): their order by
# net profit per unit is the order a desert customer should see them in.
_PROFIT_SPREAD_FAMILY = "hi-vis vest"

# The least profitable vest is short 45% of the time (3% is usual), while the premium
# one, 4.73 USD a unit better, is in stock.
BACKORDERED_SKU, _BACKORDERED_SIBLING, BACKORDER_RATE = "VST-VAL-1", "VST-IRC-1", 0.45
USUAL_BACKORDER_RATE = 0.03

# Per planted SKU: the extra share of its lines returned, and the reason those extra
# returns give (None: the usual reason mix). The valuline boxes weigh 7.9 kg and cost
# 10.22 USD: the trip back costs more than restocking recovers. The respirators'
# fit-test leaflet confuses buyers: about 12% of lines come back for it, against
# about 0.3% for the usual reason mix.
PLANTED_RETURNS = {
    "BOX-BSX-1": (0.10, None),
    "RSP-SMT-1": (0.12, "unclear_instructions"),
}
_CHEAP_BULKY_SKU, _UNCLEAR_INSTRUCTIONS_SKU = "BOX-BSX-1", "RSP-SMT-1"

# Customers keep to an assortment: a customer buys the same families month after
# month, one family for every LINES_PER_FAMILY_YEAR lines it expects a year, spread
# evenly (a family of it then misses a 12-month window with odds e^-12, 1 in 160,000),
# drawn by its industry's mix; the accounts expecting 420 lines a year or more, and the
# planted customers of the other stories, buy every family, by the mix. Without that,
# customers buy families at random, a family bought once a year looks lacking in one
# window and is bought the next months, and recommending the most popular families
# beats any basket model.
LINES_PER_FAMILY_YEAR = 12.0

# New families come through affinities (A>B), bought one after the other:
# AFFINITY_MEMBER_SHARE of the customers that do not buy everything belong to one,
# buy A from the start and take up B at a month spread evenly over
# AFFINITY_ADOPTION_MONTHS months from AFFINITY_ADOPTION_START (a year before the
# data): 1 in 8 of them in any 6 months.
# Nobody else buys B but the accounts that buy everything, so B is among the least
# popular families and the popularity baseline does not name it. Adopters put
# AFFINITY_LINE_SHARE of their lines into B, so that B earns as much per buying
# customer as the dearest families (the score is confidence x that profit). A site
# that soaks up leaks keeps a spill kit for the day it is a spill; who changes lamps
# needs a ladder; maintenance crews that service machines take over the air handlers.
FAMILY_AFFINITIES = (
    ("absorbent pads, bale", "spill kit"),
    ("LED lamps, pack of 4", "step ladder"),
    ("lubricant spray, case of 12", "HVAC filters, case of 12"),
)
AFFINITY_MEMBER_SHARE, AFFINITY_LINE_SHARE = 0.6, 0.2
AFFINITY_ADOPTION_MONTHS, AFFINITY_ADOPTION_START = 48, -12


def planted_stories(company: Company) -> dict[str, tuple[str, ...]]:
    stories = {
        story: tuple(customer_ids(members).to_pylist())
        for story, members in company.customers.story_members.items()
    }
    stories["over_overriding_reps"] = tuple(rep_ids(company.over_overriding_reps).to_pylist())
    stories.update(_desert_portal_stories(company))
    return stories


def _desert_portal_stories(company: Company) -> dict[str, tuple[str, ...]]:
    cat = company.catalogue
    spread = [i for i, f in enumerate(cat.product_family) if f == _PROFIT_SPREAD_FAMILY]
    list_margin = cat.list_cents[spread] - cat.cost_cents[spread]
    return {
        "family_with_profit_spread": tuple(
            cat.sku[spread[i]] for i in np.argsort(-list_margin, kind="stable")
        ),
        "backordered_sku_with_better_sibling": (BACKORDERED_SKU, _BACKORDERED_SIBLING),
        "family_affinities": tuple(f"{a}>{b}" for a, b in FAMILY_AFFINITIES),
        "cheap_bulky_sku_keep": (_CHEAP_BULKY_SKU,),
        "unclear_instructions_sku": (_UNCLEAR_INSTRUCTIONS_SKU,),
        "reps_with_desert_books": tuple(rep_ids(company.tiny_account_visitors).to_pylist()),
        "referral_channel": ("referral",),
    }


def pick_story_customers(rng: np.random.Generator, size: np.ndarray) -> dict[str, np.ndarray]:
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
