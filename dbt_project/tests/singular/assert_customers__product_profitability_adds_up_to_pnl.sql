{{ config(meta={'dagster': {'ref': {'name': 'product_profitability'}}}) }}
-- For every as-of period, the products add up to the P&L rows that carry a SKU
-- (invoice and return rows) in its window, to the cent.
with

as_of_periods as (
    select
        as_of_period,
        as_of_index
    from {{ ref('int_as_of_periods') }}
),

-- Product rows per period first, so the window join runs over periods, not rows.
pnl_by_period as (
    select
        period,
        sum(case when row_kind = 'invoice' then quantity else 0 end) as units_sold,
        sum(net_revenue) as revenue,
        sum(net_profit) as net_profit
    from {{ ref('fct_invoice_line_pnl') }}
    where sku is not null
    group by period
),

pnl as (
    select
        as_of_periods.as_of_period,
        sum(pnl_by_period.units_sold) as units_sold,
        sum(pnl_by_period.revenue) as revenue,
        sum(pnl_by_period.net_profit) as net_profit
    from pnl_by_period
    inner join as_of_periods
        on
            {{ in_as_of_window(period_index('pnl_by_period.period'), 'as_of_periods.as_of_index') }}
    group by as_of_periods.as_of_period
),

products as (
    select
        as_of_period,
        sum(units_sold) as units_sold,
        sum(revenue) as revenue,
        sum(net_profit) as net_profit
    from {{ ref('product_profitability') }}
    group by as_of_period
)

select
    pnl.as_of_period,
    pnl.units_sold,
    products.units_sold as product_units_sold,
    pnl.revenue,
    products.revenue as product_revenue,
    pnl.net_profit,
    products.net_profit as product_net_profit
from pnl
full outer join products on pnl.as_of_period = products.as_of_period
where pnl.as_of_period is null
    or products.as_of_period is null
    or pnl.units_sold <> products.units_sold
    or abs(pnl.revenue - products.revenue) >= 0.005
    or abs(pnl.net_profit - products.net_profit) >= 0.005
