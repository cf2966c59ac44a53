-- One row per as-of period: the company's P&L over the window, every row of
-- fct_invoice_line_pnl (idle capacity and unallocated pools included), and its
-- contribution: the "profit before" of the let-go what-if.
with

closed_periods as (
    select
        period,
        period_index
    from {{ ref('int_periods_closed') }}
),

windows as (
    select
        as_of.period as as_of_period,
        in_window.period
    from closed_periods as as_of
    inner join closed_periods as in_window
        on in_window.period_index
            between as_of.period_index - {{ var('window_months') }} + 1 and as_of.period_index
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
