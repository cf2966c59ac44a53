-- One row per as-of period: the company's P&L over the window, every row of
-- fct_invoice_line_pnl (idle capacity and unallocated pools included), and its
-- contribution: the "profit before" of the let-go what-if.
with

windows as (
    select
        as_of_period,
        period
    from {{ ref('int_as_of_period_months') }}
),

periods as (
    select
        period,
        sum(net_revenue) as revenue,
        sum(freight_revenue + expedite_revenue + restocking_fee_revenue) as other_revenue,
        sum(pool_cost_fixed) as pool_cost_fixed,
        sum(net_profit) as net_profit
    from {{ ref('fct_invoice_line_pnl') }}
    group by period
)

select
    windows.as_of_period,
    {{ money('sum(periods.revenue)') }} as revenue,
    {{ money('sum(periods.other_revenue)') }} as other_revenue,
    {{ money('sum(periods.pool_cost_fixed)') }} as pool_cost_fixed,
    {{ money('sum(periods.net_profit)') }} as net_profit,
    {{ money('sum(periods.net_profit + periods.pool_cost_fixed)') }} as contribution
from windows
inner join periods on windows.period = periods.period
group by windows.as_of_period
