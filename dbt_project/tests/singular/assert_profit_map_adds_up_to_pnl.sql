{{ config(meta={'dagster': {'ref': {'name': 'profit_map'}}}) }}
-- The profit map of each as-of period adds up to the P&L's customer rows in its window.
with

as_of_periods as (
    select
        period as as_of_period,
        period_index as as_of_index
    from {{ ref('int_periods_closed') }}
),

pnl as (
    select
        as_of_periods.as_of_period,
        sum(pnl.net_revenue) as revenue,
        sum(pnl.net_profit) as net_profit
    from {{ ref('fct_invoice_line_pnl') }} as pnl
    inner join as_of_periods
        on
            {{ period_index('pnl.period') }}
            between as_of_periods.as_of_index - {{ var('window_months') }} + 1 and as_of_periods.as_of_index
    where pnl.customer_id is not null
    group by as_of_periods.as_of_period
),

profit_map as (
    select
        as_of_period,
        sum(revenue) as revenue,
        sum(net_profit) as net_profit
    from {{ ref('profit_map') }}
    group by as_of_period
)

select
    pnl.as_of_period,
    pnl.revenue,
    profit_map.revenue as map_revenue,
    pnl.net_profit,
    profit_map.net_profit as map_net_profit
from pnl
left join profit_map on pnl.as_of_period = profit_map.as_of_period
where profit_map.as_of_period is null
    or abs(pnl.revenue - profit_map.revenue) >= 0.005
    or abs(pnl.net_profit - profit_map.net_profit) >= 0.005
