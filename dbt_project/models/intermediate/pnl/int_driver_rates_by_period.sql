-- Loops over the drivers confuse the layout linter's indentation rule here.
-- noqa: disable=LT02
-- One row per closed period: the summed rate of all pools on each driver, in total
-- and for the variable part. Joining a row's driver units to this one row gives
-- its pool cost without fanning out 10 million rows by pool.
{%- set drivers = cost_drivers() %}

with

pool_rates as (
    select * from {{ ref('int_pool_rates_computed') }}
    where rate is not null
)

select
    period,
    {%- for driver in drivers %}
    coalesce(sum(case when driver = '{{ driver }}' then rate end), 0) as rate_{{ driver }},
    coalesce(sum(case when driver = '{{ driver }}' then rate * variable_share end), 0)
        as variable_rate_{{ driver }}{{ ',' if not loop.last }}
    {%- endfor %}
from pool_rates
group by period
