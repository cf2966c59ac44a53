-- One row per as-of period, customer and product family it bought in the window whose
-- most bought SKU is not the family's top-ranked one (METHOD.md, "The desert
-- portal", upsell): current_sku is the SKU of the family it bought most units of over
-- the window (invoice quantities; ties by sku), recommended_sku the family's rank 1
-- in product_rankings, profit_per_unit_gain the difference of their net profit per
-- unit. Only gains above 0 are recommended: a SKU tied with the top one on net profit
-- per unit ranks lower by sku alone, and changing to it gains nothing.
-- is_cross_sell_candidate comes from customer_policy_flags (the middle desert quartiles).
{{ config(materialized='incremental', unique_key='as_of_period') }}
{%- set text = dbt.type_string() %}

with

-- An incremental build redoes the as-of periods product_rankings rebuilt since its
-- last build: they are those whose window (backorder months included) changed.
{{ windows_of_as_of_periods_rebuilt_in(ref('product_rankings')) }},

customer_skus as (
    select
        windows.as_of_period,
        sku_periods.customer_id,
        sku_periods.sku,
        sum(sku_periods.units_sold) as units_sold
    from {{ ref('int_sku_customer_pnl_by_period') }} as sku_periods
    inner join windows on sku_periods.period = windows.period
    group by windows.as_of_period, sku_periods.customer_id, sku_periods.sku
    having sum(sku_periods.units_sold) > 0
),

most_bought as (
    select
        customer_skus.as_of_period,
        customer_skus.customer_id,
        rankings.product_family,
        customer_skus.sku,
        customer_skus.units_sold,
        rankings.rank_in_family,
        rankings.net_profit_per_unit,
        row_number() over (
            partition by customer_skus.as_of_period, customer_skus.customer_id, rankings.product_family
            order by customer_skus.units_sold desc, customer_skus.sku asc
        ) as bought_order
    from customer_skus
    inner join {{ ref('product_rankings') }} as rankings
        on customer_skus.as_of_period = rankings.as_of_period
            and customer_skus.sku = rankings.sku
),

top_skus as (
    select
        as_of_period,
        product_family,
        sku,
        net_profit_per_unit
    from {{ ref('product_rankings') }}
    where rank_in_family = 1
),

upsells as (
    select
        most_bought.as_of_period,
        most_bought.customer_id,
        most_bought.product_family,
        most_bought.sku as current_sku,
        most_bought.units_sold as current_units,
        most_bought.rank_in_family as current_rank,
        most_bought.net_profit_per_unit as current_net_profit_per_unit,
        top_skus.sku as recommended_sku,
        top_skus.net_profit_per_unit as recommended_net_profit_per_unit,
        top_skus.net_profit_per_unit - most_bought.net_profit_per_unit as profit_per_unit_gain
    from most_bought
    inner join top_skus
        on most_bought.as_of_period = top_skus.as_of_period
            and most_bought.product_family = top_skus.product_family
    where most_bought.bought_order = 1
        and most_bought.rank_in_family > 1
        and top_skus.net_profit_per_unit > most_bought.net_profit_per_unit
)

select
    upsells.as_of_period,
    upsells.customer_id,
    upsells.product_family,
    upsells.current_sku,
    upsells.recommended_sku,
    upsells.profit_per_unit_gain,
    {{ money('upsells.current_units') }} as current_units,
    cast(upsells.current_rank as integer) as current_rank,
    upsells.current_net_profit_per_unit,
    upsells.recommended_net_profit_per_unit,
    coalesce(flags.is_cross_sell_candidate, false) as is_cross_sell_candidate,
    {{ dbt.concat([
        "'bought '", decimal_text("upsells.current_units", 2),
        "' units of '", "upsells.current_sku",
        "' (rank '", "cast(upsells.current_rank as " ~ text ~ ")",
        "', '", money_text("upsells.current_net_profit_per_unit"),
        "' per unit): '", "upsells.recommended_sku",
        "' makes '", money_text("upsells.profit_per_unit_gain"),
        "' more per unit'",
    ]) }} as reasons,
    {{ build_timestamp() }} as built_at
from upsells
left join {{ ref('customer_policy_flags') }} as flags
    on upsells.customer_id = flags.customer_id
        and upsells.as_of_period = flags.as_of_period
