-- Loops over the drivers confuse the layout linter's indentation rule here.
-- noqa: disable=LT02
-- A table on Spark, as the staging views (dbt_project.yml says why).
{{ config(materialized='table' if target.type == 'spark' else 'view') }}
-- The audit trail: one row per P&L row and pool it received a share of. Derived on
-- read from the stored driver units and pool rates, which is exact (the same
-- rate * units as the P&L) and cheap: stored, it would be ~13 rows per P&L row.
{%- set drivers = cost_drivers() %}

with

pools as (
    select * from {{ ref('int_pool_rates_computed') }}
),

document_shares as (
    select
        rows.row_id,
        rows.period,
        pools.pool,
        pools.driver,
        case pools.driver
            {%- for driver in drivers %}
            when '{{ driver }}' then rows.units_{{ driver }}
            {%- endfor %}
        end as driver_units,
        pools.rate,
        pools.variable_share
    from {{ ref('int_pnl_rows_with_driver_units') }} as rows
    inner join pools on rows.period = pools.period
    where pools.rate is not null
),

pool_row_shares as (
    select
        {{ dbt.concat(["'unallocated:'", "period", "':'", "pool"]) }} as row_id,
        period,
        pool,
        driver,
        0 as driver_units,
        cast(null as {{ type_double() }}) as rate,
        unallocated_amount as amount,
        variable_share
    from pools
    where unallocated_amount <> 0
    union all
    select
        {{ dbt.concat(["'unused_capacity:'", "period", "':'", "pool"]) }} as row_id,
        period,
        pool,
        driver,
        capacity_units - units_used as driver_units,
        rate,
        unused_capacity_amount as amount,
        variable_share
    from pools
    where unused_capacity_amount <> 0
),

shares as (
    select
        row_id,
        period,
        pool,
        driver,
        driver_units,
        rate,
        driver_units * rate as amount,
        variable_share
    from document_shares
    where driver_units <> 0
    union all
    select * from pool_row_shares
)

select
    row_id,
    period,
    pool,
    driver,
    {{ as_float('driver_units') }} as driver_units,
    {{ as_float('rate') }} as rate,
    {{ money('amount') }} as amount,
    {{ money('amount * variable_share') }} as variable_amount,
    {{ money(money('amount') ~ ' - ' ~ money('amount * variable_share')) }} as fixed_amount
from shares
