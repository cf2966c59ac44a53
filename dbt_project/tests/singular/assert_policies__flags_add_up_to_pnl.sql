{{ config(meta={'dagster': {'ref': {'name': 'customer_policy_flags'}}}) }}
-- Every customer in scope has one row of policy flags, and per as-of period the flags'
-- revenue, net profit and contribution add up to the P&L's customer rows in the window
-- (contribution = net profit + fixed pool shares).
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
        sum(net_profit) as net_profit,
        sum(net_profit + pool_cost_fixed) as contribution
    from {{ ref('fct_invoice_line_pnl') }}
    where customer_id is not null
    group by period
),

pnl as (
    select
        as_of_periods.as_of_period,
        sum(pnl_by_period.revenue) as revenue,
        sum(pnl_by_period.net_profit) as net_profit,
        sum(pnl_by_period.contribution) as contribution
    from pnl_by_period
    inner join as_of_periods
        on
            {{ in_as_of_window(period_index('pnl_by_period.period'), 'as_of_periods.as_of_index') }}
    group by as_of_periods.as_of_period
),

flags as (
    select
        as_of_period,
        count(*) as customers,
        sum(revenue) as revenue,
        sum(net_profit) as net_profit,
        sum(contribution) as contribution
    from {{ ref('customer_policy_flags') }}
    group by as_of_period
),

scope as (
    select
        as_of_period,
        count(*) as customers
    from {{ ref('customer_profitability') }}
    group by as_of_period
)

select
    pnl.as_of_period,
    scope.customers as customers_in_scope,
    flags.customers as customers_flagged,
    pnl.revenue,
    flags.revenue as flags_revenue,
    pnl.net_profit,
    flags.net_profit as flags_net_profit,
    pnl.contribution,
    flags.contribution as flags_contribution
from pnl
left join flags on pnl.as_of_period = flags.as_of_period
left join scope on pnl.as_of_period = scope.as_of_period
where flags.as_of_period is null
    or scope.customers <> flags.customers
    or abs(pnl.revenue - flags.revenue) >= 0.005
    or abs(pnl.net_profit - flags.net_profit) >= 0.005
    or abs(pnl.contribution - flags.contribution) >= 0.005
