{{ config(meta={'dagster': {'ref': {'name': 'product_rankings'}}}) }}
-- For every as-of period, the product rankings' units and net profit add up to
-- product_profitability's (the P&L rows that carry a SKU in the window), to the cent;
-- and every SKU of product_profitability is ranked.
with

products as (
    select
        as_of_period,
        sum(units_sold) as units,
        sum(net_profit) as net_profit
    from {{ ref('product_profitability') }}
    group by as_of_period
),

rankings as (
    select
        as_of_period,
        sum(units) as units,
        sum(net_profit) as net_profit
    from {{ ref('product_rankings') }}
    group by as_of_period
),

missing_skus as (
    select
        products.as_of_period,
        count(*) as missing
    from {{ ref('product_profitability') }} as products
    left join {{ ref('product_rankings') }} as rankings
        on products.as_of_period = rankings.as_of_period
            and products.sku = rankings.sku
    where rankings.sku is null
    group by products.as_of_period
)

select
    products.as_of_period,
    products.units,
    rankings.units as ranking_units,
    products.net_profit,
    rankings.net_profit as ranking_net_profit,
    missing_skus.missing
from products
full outer join rankings on products.as_of_period = rankings.as_of_period
left join missing_skus on products.as_of_period = missing_skus.as_of_period
where products.as_of_period is null
    or rankings.as_of_period is null
    or products.units <> rankings.units
    or abs(products.net_profit - rankings.net_profit) >= {{ half_cent() }}
    or missing_skus.missing > 0
