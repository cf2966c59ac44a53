-- Loops over the drivers confuse the layout linter's indentation rule here.
-- noqa: disable=LT02
-- One row per cost pool and closed period: the driver units its period used, its
-- rate, and how its amount splits into allocated, unallocated and unused capacity
-- (METHOD.md, "Cost pools and drivers"). These three add up to the amount.
{%- set drivers = cost_drivers() %}

with

units_by_period as (
    select
        period,
        {%- for driver in drivers %}
        sum(units_{{ driver }}) as {{ driver }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('int_pnl_rows_with_driver_units') }}
    group by period
),

units_used as (
    {%- for driver in drivers %}
    select period, '{{ driver }}' as driver, {{ as_float(driver) }} as units_used from units_by_period
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

pools as (
    select
        pools.period,
        pools.pool,
        pools.driver,
        {{ as_float('pools.amount') }} as amount,
        {{ as_float('pools.variable_share') }} as variable_share,
        {{ as_float('pools.capacity_units') }} as capacity_units,
        coalesce(units_used.units_used, 0) as units_used
    from {{ ref('stg_erp__cost_pools') }} as pools
    left join units_used
        on pools.period = units_used.period
            and pools.driver = units_used.driver
),

-- Stated practical capacity above the units used sets the rate; the idle part is
-- the company's cost, not the customers'.
rated as (
    select
        *,
        case
            when units_used = 0 then null
            when capacity_units > units_used then amount / capacity_units
            else amount / units_used
        end as rate
    from pools
)

select
    period,
    pool,
    driver,
    amount,
    variable_share,
    capacity_units,
    units_used,
    rate,
    coalesce(rate * units_used, 0) as allocated_amount,
    case when rate is null then amount else 0 end as unallocated_amount,
    case
        when rate is not null and capacity_units > units_used then amount - rate * units_used else 0
    end as unused_capacity_amount
from rated
