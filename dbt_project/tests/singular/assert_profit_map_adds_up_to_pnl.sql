{{ config(meta={'dagster': {'ref': {'name': 'profit_map'}}}) }}
-- The profit map of each as-of period adds up to the P&L's customer rows in its window.
with

as_of_periods as (
    select
        period as as_of_period,
        period_index as as_of_index
    from {{ ref('int_periods_closed') }}
),

-- Customer rows per period first, so the window join runs over periods, not rows.
pnl_by_period as (
    select
        period,
        sum(net_revenue) as revenue,
        sum(net_profit) as net_profit
    from {{ ref('fct_invoice_line_pnl') }}
    where customer_id is not null
    group by period
),

pnl as (
    select
        as_of_periods.as_of_period,
        sum(pnl_by_period.revenue) as revenue,
        sum(pnl_by_period.net_profit) as net_profit
    from pnl_by_period
    inner join as_of_periods
        on
            {{ in_as_of_window(period_index('pnl_by_period.period'), 'as_of_periods.as_of_index') }}
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
