-- depends_on: {{ ref('customer_profitability') }}
-- One row per product (sku) and as-of period: the SKU's place in its product family
-- on the desert portal (METHOD.md, "The desert portal"). SKUs sold in the window come
-- first, by net profit per unit (its invoice and return rows' net_profit / units
-- invoiced), descending, ties by sku; SKUs not sold in the window follow, by list
-- margin (list_price - standard_cost) less the family's average pool cost per unit
-- (the family's pool_cost_total over the window / its units sold). Every SKU of
-- stg_erp__products is ranked in every as-of period.
{{ config(materialized='incremental', unique_key='as_of_period') }}
{%- set text = dbt.type_string() %}

with

-- The window join of the customer marts; an incremental build redoes only the as-of
-- periods whose window holds a period that changed since its last build
-- (macros/incremental.sql), or whose customers' segments were rebuilt
-- (customer_profitability, the input of customer_segments).
windows as (
    {{ window_months_to_rebuild(
        changed_periods=periods_built_since_last_build(ref('int_sku_customer_pnl_by_period')),
        rebuilt_as_of_periods=as_of_periods_built_since_last_build(ref('customer_profitability'))
    ) }}
),

as_of_periods as (
    select distinct as_of_period
    from windows
),

desert_customers as (
    select
        customer_id,
        as_of_period
    from {{ ref('customer_segments') }}
    where segment = 'profit_desert'
),

customer_windows as (
    select
        sku_periods.sku,
        sku_periods.customer_id,
        windows.as_of_period,
        sum(sku_periods.units_sold) as units_sold,
        sum(sku_periods.pool_cost_total) as pool_cost_total,
        sum(sku_periods.net_profit) as net_profit
    from {{ ref('int_sku_customer_pnl_by_period') }} as sku_periods
    inner join windows on sku_periods.period = windows.period
    group by sku_periods.sku, sku_periods.customer_id, windows.as_of_period
),

sku_windows as (
    select
        customer_windows.sku,
        customer_windows.as_of_period,
        sum(customer_windows.units_sold) as units_sold,
        sum(customer_windows.pool_cost_total) as pool_cost_total,
        sum(customer_windows.net_profit) as net_profit,
        sum(case when desert_customers.customer_id is not null then customer_windows.units_sold else 0 end)
            as desert_units_sold,
        sum(case when desert_customers.customer_id is not null then customer_windows.net_profit else 0 end)
            as desert_net_profit
    from customer_windows
    left join desert_customers
        on customer_windows.customer_id = desert_customers.customer_id
            and customer_windows.as_of_period = desert_customers.as_of_period
    group by customer_windows.sku, customer_windows.as_of_period
),

products as (
    select
        as_of_periods.as_of_period,
        products.sku,
        products.product_family,
        products.list_price - products.standard_cost as list_margin,
        coalesce(sku_windows.units_sold, 0) as units_sold,
        coalesce(sku_windows.pool_cost_total, 0) as pool_cost_total,
        coalesce(sku_windows.net_profit, 0) as net_profit,
        coalesce(sku_windows.desert_units_sold, 0) as desert_units_sold,
        coalesce(sku_windows.desert_net_profit, 0) as desert_net_profit
    from {{ ref('stg_erp__products') }} as products
    cross join as_of_periods
    left join sku_windows
        on products.sku = sku_windows.sku
            and as_of_periods.as_of_period = sku_windows.as_of_period
),

-- A family with no units sold in the window has no pool cost per unit: its SKUs are
-- then ranked by list margin alone (a pool cost of 0).
families as (
    select
        as_of_period,
        product_family,
        coalesce({{ safe_ratio('sum(pool_cost_total)', 'sum(units_sold)') }}, 0) as family_pool_cost_per_unit
    from products
    group by as_of_period, product_family
),

scored as (
    select
        products.*,
        families.family_pool_cost_per_unit,
        products.units_sold > 0 as is_sold,
        {{ safe_ratio('products.net_profit', 'products.units_sold') }} as net_profit_per_unit,
        case when products.desert_units_sold >= {{ var('rank_min_units') }}
                then {{ safe_ratio('products.desert_net_profit', 'products.desert_units_sold') }}
        end as desert_net_profit_per_unit,
        case when products.units_sold > 0
                then {{ safe_ratio('products.net_profit', 'products.units_sold') }}
            else {{ as_float('products.list_margin - families.family_pool_cost_per_unit') }}
        end as ranking_score
    from products
    inner join families
        on products.as_of_period = families.as_of_period
            and products.product_family = families.product_family
),

ranked as (
    select
        *,
        row_number() over (
            partition by as_of_period, product_family
            order by case when is_sold then 0 else 1 end asc, ranking_score desc, sku asc
        ) as rank_in_family,
        count(*) over (partition by as_of_period, product_family) as skus_in_family
    from scored
)

select
    as_of_period,
    product_family,
    sku,
    cast(rank_in_family as integer) as rank_in_family,
    cast(skus_in_family as integer) as skus_in_family,
    {{ money('units_sold') }} as units,
    {{ money('net_profit') }} as net_profit,
    net_profit_per_unit,
    {{ money('desert_units_sold') }} as desert_units,
    {{ money('desert_net_profit') }} as desert_net_profit,
    desert_net_profit_per_unit,
    {{ money('list_margin') }} as list_margin,
    {{ as_float('family_pool_cost_per_unit') }} as family_pool_cost_per_unit,
    ranking_score,
    case when is_sold then 'sales' else 'list_margin' end as ranked_by,
    case when is_sold
            then {{ dbt.concat([
                "'sold '", decimal_text("units_sold", 2),
                "' units at '", money_text("net_profit_per_unit"),
                "' net profit per unit: rank '", "cast(rank_in_family as " ~ text ~ ")",
                "' of '", "cast(skus_in_family as " ~ text ~ ")", "' in '", "product_family",
            ]) }}
        else {{ dbt.concat([
            "'not sold in the window: list margin '", money_text("list_margin"),
            "' less the family''s '", money_text("family_pool_cost_per_unit"),
            "' pool cost per unit: rank '", "cast(rank_in_family as " ~ text ~ ")",
            "' of '", "cast(skus_in_family as " ~ text ~ ")", "' in '", "product_family",
        ]) }}
    end as reasons,
    {{ build_timestamp() }} as built_at
from ranked
