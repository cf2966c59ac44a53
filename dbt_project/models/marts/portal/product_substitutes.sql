-- One row per as-of period, product (sku) and substitute: up to `substitutes_per_sku`
-- other SKUs of its product family, in their product_rankings order, leaving out SKUs
-- backordered on more than `backorder_max_rate` of their invoice lines in the last
-- `backorder_months` closed months up to the as-of period (METHOD.md, "The desert
-- portal"). backordered_profit_gain: what the substitute would have made on the SKU's
-- backordered lines of the window, (substitute's - the SKU's net profit per unit) *
-- quantity summed over those lines; the SKU's figure is that of its substitute_rank 1.
{{ config(materialized='incremental', unique_key='as_of_period') }}
{%- set text = dbt.type_string() %}

with

-- An incremental build redoes the as-of periods product_rankings rebuilt since its
-- last build: they are those whose window (backorder months included) changed.
{{ windows_of_as_of_periods_rebuilt_in(ref('product_rankings')) }},

rankings as (
    select * from {{ ref('product_rankings') }}
    {%- if is_incremental() %}
    where as_of_period in (select rebuilt_as_of_periods.as_of_period from rebuilt_as_of_periods)
    {%- endif %}
),

recent_months as (
    select
        as_of_period,
        period
    from windows
    where period_index > as_of_index - {{ var('backorder_months') }}
),

backorders as (
    select
        recent_months.as_of_period,
        sku_periods.sku,
        sum(sku_periods.line_count) as line_count,
        sum(sku_periods.backordered_line_count) as backordered_line_count
    from {{ ref('int_sku_customer_pnl_by_period') }} as sku_periods
    inner join recent_months on sku_periods.period = recent_months.period
    group by recent_months.as_of_period, sku_periods.sku
),

window_backorders as (
    select
        windows.as_of_period,
        sku_periods.sku,
        sum(sku_periods.backordered_units) as backordered_units
    from {{ ref('int_sku_customer_pnl_by_period') }} as sku_periods
    inner join windows on sku_periods.period = windows.period
    group by windows.as_of_period, sku_periods.sku
),

-- A SKU without lines in those months was never backordered there: rate 0.
candidates as (
    select
        rankings.as_of_period,
        rankings.product_family,
        rankings.sku,
        rankings.rank_in_family,
        rankings.ranking_score,
        coalesce({{ safe_ratio('backorders.backordered_line_count', 'backorders.line_count') }}, 0)
            as backorder_rate
    from rankings
    left join backorders
        on rankings.as_of_period = backorders.as_of_period
            and rankings.sku = backorders.sku
),

pairs as (
    select
        rankings.as_of_period,
        rankings.sku,
        candidates.sku as substitute_sku,
        candidates.backorder_rate,
        candidates.ranking_score - rankings.ranking_score as profit_per_unit_difference,
        coalesce(window_backorders.backordered_units, 0) as backordered_units,
        row_number() over (
            partition by rankings.as_of_period, rankings.sku
            order by candidates.rank_in_family
        ) as substitute_rank
    from rankings
    inner join candidates
        on rankings.as_of_period = candidates.as_of_period
            and rankings.product_family = candidates.product_family
            and rankings.sku <> candidates.sku
    left join window_backorders
        on rankings.as_of_period = window_backorders.as_of_period
            and rankings.sku = window_backorders.sku
    where candidates.backorder_rate <= {{ var('backorder_max_rate') }}
)

select
    as_of_period,
    sku,
    substitute_sku,
    cast(substitute_rank as integer) as substitute_rank,
    profit_per_unit_difference,
    backorder_rate,
    {{ money('backordered_units') }} as backordered_units,
    {{ money('profit_per_unit_difference * backordered_units') }} as backordered_profit_gain,
    {{ dbt.concat([
        "'substitute '", "cast(substitute_rank as " ~ text ~ ")",
        "': '", money_text("profit_per_unit_difference"),
        "' net profit per unit against '", "sku",
        "', backordered on '", decimal_text("100 * backorder_rate", 1),
        "'% of its recent lines; '", money_text("profit_per_unit_difference * backordered_units"),
        "' on the '", decimal_text("backordered_units", 2), "' backordered units'",
    ]) }} as reasons,
    {{ build_timestamp() }} as built_at
from pairs
where substitute_rank <= {{ var('substitutes_per_sku') }}
