{{ config(meta={'dagster': {'ref': {'name': 'let_go_scenarios'}}}) }}
-- The let-go what-if, recomputed from the P&L: profit before is the net profit of every
-- P&L row in the window, and letting go the value destroyers (the customers whose net
-- profit over the window is below zero) loses their revenue and contribution, computed
-- here from their rows, while their fixed pool shares stay behind.
with

as_of_periods as (
    select
        period as as_of_period,
        period_index as as_of_index
    from {{ ref('int_periods_closed') }}
),

rows_by_customer_period as (
    select
        customer_id,
        period,
        sum(net_revenue) as revenue,
        sum(net_profit) as net_profit,
        sum(pool_cost_fixed) as pool_cost_fixed
    from {{ ref('fct_invoice_line_pnl') }}
    group by customer_id, period
),

-- customer_id is null for idle capacity and unallocated pools: they count in profit
-- before, and are nobody's to let go.
windowed as (
    select
        as_of_periods.as_of_period,
        rows_by_customer_period.customer_id,
        sum(rows_by_customer_period.revenue) as revenue,
        sum(rows_by_customer_period.net_profit) as net_profit,
        sum(rows_by_customer_period.pool_cost_fixed) as pool_cost_fixed
    from rows_by_customer_period
    inner join as_of_periods
        on
            {{ in_as_of_window(period_index('rows_by_customer_period.period'), 'as_of_periods.as_of_index') }}
    group by as_of_periods.as_of_period, rows_by_customer_period.customer_id
),

expected as (
    select
        as_of_period,
        sum(net_profit) as profit_before,
        sum(case when customer_id is not null and net_profit < 0 then 1 else 0 end) as customers,
        sum(case when customer_id is not null and net_profit < 0 then revenue else 0 end) as revenue_lost,
        sum(case when customer_id is not null and net_profit < 0 then pool_cost_fixed else 0 end)
            as fixed_cost_left_behind,
        sum(case when customer_id is not null and net_profit < 0 then net_profit + pool_cost_fixed else 0 end)
            as contribution_lost
    from windowed
    group by as_of_period
),

scenario as (
    select *
    from {{ ref('let_go_scenarios') }}
    where scenario = 'value_destroyers'
)

select
    expected.as_of_period,
    expected.profit_before,
    scenario.profit_before as scenario_profit_before,
    expected.customers,
    scenario.customers as scenario_customers,
    expected.contribution_lost,
    scenario.contribution_lost as scenario_contribution_lost,
    expected.profit_before - expected.contribution_lost as profit_after,
    scenario.profit_after as scenario_profit_after
from expected
left join scenario on expected.as_of_period = scenario.as_of_period
where scenario.as_of_period is null
    or expected.customers <> scenario.customers
    or abs(expected.profit_before - scenario.profit_before) >= {{ half_cent() }}
    or abs(expected.revenue_lost - scenario.revenue_lost) >= {{ half_cent() }}
    or abs(expected.fixed_cost_left_behind - scenario.fixed_cost_left_behind) >= {{ half_cent() }}
    or abs(expected.contribution_lost - scenario.contribution_lost) >= {{ half_cent() }}
    or abs(expected.profit_before - expected.contribution_lost - scenario.profit_after) >= {{ half_cent() }}
