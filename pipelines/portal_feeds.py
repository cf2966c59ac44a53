"""The desert portal's feeds for the commerce site (docs/portal_feed.md): five marts of
MARTS.md "The desert portal", each for the latest as-of period, written by the one feed
writer (pipelines/feeds.py). Columns per MARTS.md, with `reason_code` naming the reason of an
alert. Per-unit figures and rates are doubles (a profit per unit is a ratio, not an amount
booked to the cent); counts are integers.

The change columns are what the site acts on: an order of products, a substitute shown, a
recommendation shown, a disposition applied, an alert raised. The figures behind them move
every month without the site having to do anything, so they do not make a record "changed".
"""

from __future__ import annotations

import pyarrow as pa

from pipelines.feeds import Feed

PRODUCT_RANKINGS = Feed(
    name="product_rankings",
    mart="product_rankings",
    key=("sku",),
    change_columns=("product_family", "rank_in_family", "ranked_by"),
    columns=pa.schema(
        [
            ("product_family", pa.string()),
            ("sku", pa.string()),
            ("rank_in_family", pa.int32()),
            ("units", pa.float64()),
            ("net_profit_per_unit", pa.float64()),
            ("desert_net_profit_per_unit", pa.float64()),
            ("ranked_by", pa.string()),
        ]
    ),
    schema_version="1.0",
    record_noun="skus",
)

PRODUCT_SUBSTITUTES = Feed(
    name="product_substitutes",
    mart="product_substitutes",
    key=("sku", "substitute_sku"),
    change_columns=("substitute_rank",),
    columns=pa.schema(
        [
            ("sku", pa.string()),
            ("substitute_sku", pa.string()),
            ("substitute_rank", pa.int32()),
            ("profit_per_unit_difference", pa.float64()),
            ("backorder_rate", pa.float64()),
        ]
    ),
    schema_version="1.0",
    record_noun="substitutes",
    # A catalogue where no SKU has a more profitable substitute is possible.
    allow_empty=True,
)

CROSS_SELL_RECOMMENDATIONS = Feed(
    name="cross_sell_recommendations",
    mart="cross_sell_recommendations",
    key=("customer_id", "product_family"),
    change_columns=("recommendation_rank", "because_of_family", "is_cross_sell_candidate"),
    columns=pa.schema(
        [
            ("customer_id", pa.string()),
            ("product_family", pa.string()),
            ("recommendation_rank", pa.int32()),
            ("score", pa.float64()),
            ("because_of_family", pa.string()),
            ("confidence", pa.float64()),
            ("lift", pa.float64()),
            ("is_cross_sell_candidate", pa.bool_()),
        ]
    ),
    schema_version="1.0",
    record_noun="recommendations",
    allow_empty=True,
)

RETURN_DISPOSITIONS = Feed(
    name="return_dispositions",
    mart="return_dispositions",
    key=("sku",),
    change_columns=("recommended_disposition", "rule_level"),
    columns=pa.schema(
        [
            ("sku", pa.string()),
            ("recommended_disposition", pa.string()),
            ("handling_cost_per_unit", pa.float64()),
            ("recovery_per_unit", pa.float64()),
            ("saving_per_unit", pa.float64()),
            ("returns", pa.int64()),
            ("rule_level", pa.string()),
        ]
    ),
    schema_version="1.0",
    record_noun="skus",
    allow_empty=True,
)

RETURN_REASON_ALERTS = Feed(
    name="return_reason_alerts",
    mart="return_reason_alerts",
    key=("sku", "reason_code"),
    change_columns=("likely_fix",),
    columns=pa.schema(
        [
            ("sku", pa.string()),
            ("reason_code", pa.string()),
            ("returns", pa.int64()),
            ("rate_per_unit_sold", pa.float64()),
            ("family_rate", pa.float64()),
            ("ratio", pa.float64()),
            ("likely_fix", pa.string()),
        ]
    ),
    schema_version="1.0",
    record_noun="alerts",
    # A month without an unusual return reason raises no alert.
    allow_empty=True,
)

PORTAL_FEEDS = (
    PRODUCT_RANKINGS,
    PRODUCT_SUBSTITUTES,
    CROSS_SELL_RECOMMENDATIONS,
    RETURN_DISPOSITIONS,
    RETURN_REASON_ALERTS,
)
