-- One row per product (sku) and as-of period: the SKU's P&L over the window of
-- `window_months` closed months ending at the as-of period, its return rate, its net
-- profit per unit sold and its rank by that within its product family (1 = most
-- profitable per unit; equal values share a rank; SKUs without units sold come
-- last). Products in scope are those with any P&L row in the window.
with

as_of_periods as (
    select
        as_of_period,
        as_of_index
    from {{ ref('int_as_of_periods') }}
),

windowed as (
    select
        product_periods.sku,
        as_of_periods.as_of_period,
        sum(product_periods.units_sold) as units_sold,
        sum(product_periods.units_returned) as units_returned,
        sum(product_periods.line_count) as line_count,
        sum(product_periods.return_count) as return_count,
        sum(product_periods.revenue) as revenue,
        sum(product_periods.other_revenue) as other_revenue,
        sum(product_periods.cogs) as cogs,
        sum(product_periods.cost_to_serve) as cost_to_serve,
        sum(product_periods.net_profit) as net_profit
    from {{ ref('int_product_pnl_by_period') }} as product_periods
    inner join as_of_periods
        on {{ in_as_of_window('product_periods.period_index', 'as_of_periods.as_of_index') }}
    group by product_periods.sku, as_of_periods.as_of_period
),

per_unit as (
    select
        windowed.*,
        products.product_family,
        products.category,
        products.brand,
        {{ safe_ratio('windowed.net_profit', 'windowed.units_sold') }} as net_profit_per_unit
    from windowed
    inner join {{ ref('stg_erp__products') }} as products on windowed.sku = products.sku
)

select
    sku,
    as_of_period,
    product_family,
    category,
    brand,
    {{ money('units_sold') }} as units_sold,
    {{ money('units_returned') }} as units_returned,
    cast(line_count as integer) as line_count,
    cast(return_count as integer) as return_count,
    {{ safe_ratio('units_returned', 'units_sold') }} as return_rate,
    {{ money('revenue') }} as revenue,
    {{ money('other_revenue') }} as other_revenue,
    {{ money('cogs') }} as cogs,
    {{ money('revenue + other_revenue - cogs') }} as gross_margin,
    {{ money('cost_to_serve') }} as cost_to_serve,
    {{ money('net_profit') }} as net_profit,
    {{ safe_ratio('net_profit', 'revenue') }} as net_margin,
    net_profit_per_unit,
    cast(rank() over (
        partition by as_of_period, product_family
        order by case when net_profit_per_unit is null then 1 else 0 end, net_profit_per_unit desc
    ) as integer) as rank_in_family,
    cast(count(*) over (partition by as_of_period, product_family) as integer) as skus_in_family
from per_unit
