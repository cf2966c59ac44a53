-- One row per as-of period and product (sku) returned at least once in the window:
-- keep or send back a returned unit (METHOD.md, "The desert portal"). Handling a
-- returned unit costs the return pools' shares on the SKU's return rows per returned
-- unit plus the SKU's outbound freight cost per unit sold; taking it back recovers the
-- restocked share of its returned units times its average unit cost (COGS of its
-- invoice rows / units sold; standard_cost when it sold nothing in the window). keep
-- when handling costs more than it recovers, else send_back (equal figures: send_back).
-- SKUs with fewer than `returns_min_for_rule` returns use their family's figures (the
-- same sums over the family's SKUs; the family's average unit cost is its COGS over
-- its units sold, or its SKUs' mean when it sold nothing), rule_level = 'family'.
{{ config(materialized='incremental', unique_key='as_of_period') }}
{%- set text = dbt.type_string() %}

with

-- The window join of the customer marts; an incremental build redoes only the as-of
-- periods whose window holds a period that changed since its last build
-- (macros/incremental.sql).
windows as (
    {{ window_months_to_rebuild(
        changed_periods=periods_built_since_last_build(ref('int_sku_customer_pnl_by_period'))
    ) }}
),

sku_windows as (
    select
        windows.as_of_period,
        sku_periods.sku,
        sum(sku_periods.units_sold) as units_sold,
        sum(sku_periods.cogs_sold) as cogs_sold,
        sum(sku_periods.freight_cost) as freight_cost,
        sum(sku_periods.return_count) as return_count,
        sum(sku_periods.units_returned) as units_returned,
        sum(sku_periods.units_restocked) as units_restocked,
        sum(sku_periods.return_pool_cost) as return_pool_cost
    from {{ ref('int_sku_customer_pnl_by_period') }} as sku_periods
    inner join windows on sku_periods.period = windows.period
    group by windows.as_of_period, sku_periods.sku
),

skus as (
    select
        sku_windows.*,
        products.product_family,
        coalesce({{ safe_ratio('sku_windows.cogs_sold', 'sku_windows.units_sold') }}, products.standard_cost)
            as average_unit_cost
    from sku_windows
    inner join {{ ref('stg_erp__products') }} as products on sku_windows.sku = products.sku
),

families as (
    select
        as_of_period,
        product_family,
        {{ safe_ratio('sum(return_pool_cost)', 'sum(units_returned)') }} as return_pool_cost_per_unit,
        {{ safe_ratio('sum(freight_cost)', 'sum(units_sold)', '0') }} as freight_cost_per_unit,
        {{ safe_ratio('sum(units_restocked)', 'sum(units_returned)') }} as restocked_share,
        coalesce({{ safe_ratio('sum(cogs_sold)', 'sum(units_sold)') }}, {{ as_float('avg(average_unit_cost)') }})
            as average_unit_cost
    from skus
    group by as_of_period, product_family
),

figures as (
    select
        skus.as_of_period,
        skus.sku,
        skus.product_family,
        skus.return_count,
        skus.units_returned,
        skus.return_count < {{ var('returns_min_for_rule') }} as uses_family,
        {{ safe_ratio('skus.return_pool_cost', 'skus.units_returned') }}
        + coalesce({{ safe_ratio('skus.freight_cost', 'skus.units_sold') }}, families.freight_cost_per_unit)
            as sku_handling_cost_per_unit,
        {{ safe_ratio('skus.units_restocked', 'skus.units_returned') }} * skus.average_unit_cost
            as sku_recovery_per_unit,
        families.return_pool_cost_per_unit + families.freight_cost_per_unit as family_handling_cost_per_unit,
        families.restocked_share * families.average_unit_cost as family_recovery_per_unit
    from skus
    inner join families
        on skus.as_of_period = families.as_of_period
            and skus.product_family = families.product_family
    where skus.return_count > 0
),

decided as (
    select
        as_of_period,
        sku,
        product_family,
        return_count,
        units_returned,
        case when uses_family then 'family' else 'sku' end as rule_level,
        case when uses_family then family_handling_cost_per_unit else sku_handling_cost_per_unit end
            as handling_cost_per_unit,
        case when uses_family then family_recovery_per_unit else sku_recovery_per_unit end
            as recovery_per_unit
    from figures
)

select
    as_of_period,
    sku,
    product_family,
    case when handling_cost_per_unit > recovery_per_unit then 'keep' else 'send_back' end
        as recommended_disposition,
    handling_cost_per_unit,
    recovery_per_unit,
    abs(handling_cost_per_unit - recovery_per_unit) as saving_per_unit,
    cast(return_count as integer) as returns,
    {{ money('units_returned') }} as units_returned,
    rule_level,
    {{ dbt.concat([
        "case when handling_cost_per_unit > recovery_per_unit then 'keep it' else 'send it back' end",
        "': handling '", money_text("handling_cost_per_unit"),
        "' per unit against '", money_text("recovery_per_unit"),
        "' recovered'",
        "case when rule_level = 'family' then " ~ dbt.concat([
            "' (the family''s figures: '", "cast(return_count as " ~ text ~ ")",
            "' returns, fewer than " ~ var('returns_min_for_rule') ~ ")'",
        ]) ~ " else '' end",
    ]) }} as reasons,
    {{ build_timestamp() }} as built_at
from decided
