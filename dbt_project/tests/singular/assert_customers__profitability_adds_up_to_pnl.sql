{{ config(meta={'dagster': {'ref': {'name': 'customer_profitability'}}}) }}
-- For every as-of period, the customers' rollup adds up to the P&L's customer rows in
-- its window, component by component, to the cent.

-- Loops over the components confuse the layout linter's indentation rule here.
-- noqa: disable=LT02
{%- set components = [
    'revenue', 'other_revenue', 'cogs', 'freight_cost', 'pool_cost_total',
    'pool_cost_variable', 'carrying_cost', 'bad_debt', 'net_profit'] %}

with

as_of_periods as (
    select
        as_of_period,
        as_of_index
    from {{ ref('int_as_of_periods') }}
),

-- Customer rows per period first, so the window join runs over periods, not rows.
pnl_by_period as (
    select
        period,
        sum(net_revenue) as revenue,
        sum(freight_revenue + expedite_revenue + restocking_fee_revenue) as other_revenue,
        sum(cogs) as cogs,
        sum(freight_cost) as freight_cost,
        sum(pool_cost_total) as pool_cost_total,
        sum(pool_cost_variable) as pool_cost_variable,
        sum(carrying_cost) as carrying_cost,
        sum(bad_debt) as bad_debt,
        sum(net_profit) as net_profit
    from {{ ref('fct_invoice_line_pnl') }}
    where customer_id is not null
    group by period
),

pnl as (
    select
        as_of_periods.as_of_period,
        {%- for component in components %}
        sum(pnl_by_period.{{ component }}) as {{ component }}{{ ',' if not loop.last }}
        {%- endfor %}
    from pnl_by_period
    inner join as_of_periods
        on
            {{ in_as_of_window(period_index('pnl_by_period.period'), 'as_of_periods.as_of_index') }}
    group by as_of_periods.as_of_period
),

customers as (
    select
        as_of_period,
        {%- for component in components %}
        sum({{ component }}) as {{ component }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('customer_profitability') }}
    group by as_of_period
)

select
    pnl.as_of_period,
    {%- for component in components %}
    pnl.{{ component }} as pnl_{{ component }},
    customers.{{ component }} as customers_{{ component }}{{ ',' if not loop.last }}
    {%- endfor %}
from pnl
full outer join customers on pnl.as_of_period = customers.as_of_period
where pnl.as_of_period is null
    or customers.as_of_period is null
    {%- for component in components %}
    or abs(pnl.{{ component }} - customers.{{ component }}) >= 0.005
    {%- endfor %}
