{{ config(meta={'dagster': {'ref': {'name': 'customer_profitability'}}}) }}
-- For every as-of period and cost-to-serve component, the customers' component costs
-- add up to what the pools of that component allocated to documents in the window
-- (their amounts less unallocated and unused capacity), to the cent. A pool whose
-- driver has no component shows up as 'unmapped' and fails.

-- Loops over the components confuse the layout linter's indentation rule here.
-- noqa: disable=LT02
{%- set components = cost_components() %}

with

as_of_periods as (
    select
        as_of_period,
        as_of_index
    from {{ ref('int_as_of_periods') }}
),

pools as (
    select
        as_of_periods.as_of_period,
        coalesce(components.cost_component, 'unmapped') as cost_component,
        sum(pools.allocated_amount) as allocated_amount
    from {{ ref('int_pool_rates_computed') }} as pools
    left join {{ ref('cost_drivers') }} as components
        on pools.driver = components.driver
    inner join as_of_periods
        on
            {{ in_as_of_window(period_index('pools.period'), 'as_of_periods.as_of_index') }}
    group by as_of_periods.as_of_period, coalesce(components.cost_component, 'unmapped')
),

customers_wide as (
    select
        as_of_period,
        {%- for component in components %}
        sum({{ component }}_cost) as {{ component }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('customer_profitability') }}
    group by as_of_period
),

customers as (
    {%- for component in components %}
    select
        as_of_period,
        '{{ component }}' as cost_component,
        {{ component }} as component_cost
    from customers_wide
    {{ 'union all' if not loop.last }}
    {%- endfor %}
)

select
    coalesce(pools.as_of_period, customers.as_of_period) as as_of_period,
    coalesce(pools.cost_component, customers.cost_component) as cost_component,
    pools.allocated_amount,
    customers.component_cost
from pools
full outer join customers
    on pools.as_of_period = customers.as_of_period
        and pools.cost_component = customers.cost_component
where abs(coalesce(pools.allocated_amount, 0) - coalesce(customers.component_cost, 0)) >= {{ half_cent() }}
