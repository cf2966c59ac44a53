-- One row per customer of the extract: its attributes (CONTRACT.md, `customers`) and,
-- for the latest as-of period, its segment, quartile and recommended action, so that
-- a BI tool needs no raw table to name a customer. A customer without P&L rows in the
-- latest window is out of scope there (METHOD.md): its segment, quartile and action
-- are null.
with

customers as (
    select * from {{ ref('stg_erp__customers') }}
),

latest_as_of_period as (
    select max(as_of_period) as as_of_period
    from {{ ref('int_as_of_periods') }}
),

latest_flags as (
    select
        flags.customer_id,
        flags.segment,
        flags.quartile,
        flags.recommended_action
    from {{ ref('customer_policy_flags') }} as flags
    inner join latest_as_of_period
        on flags.as_of_period = latest_as_of_period.as_of_period
)

select
    -- ids
    cast(customers.customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(customers.sales_rep_id as {{ dbt.type_string() }}) as sales_rep_id,
    -- dates
    cast(customers.created_date as date) as created_date,
    -- attributes
    cast(customers.customer_name as {{ dbt.type_string() }}) as customer_name,
    cast(customers.industry as {{ dbt.type_string() }}) as industry,
    cast(customers.region as {{ dbt.type_string() }}) as region,
    cast(customers.acquisition_channel as {{ dbt.type_string() }}) as acquisition_channel,
    -- numerics
    cast(customers.employee_count as integer) as employee_count,
    {{ money('customers.est_annual_spend') }} as est_annual_spend,
    -- the latest as-of period
    latest_as_of_period.as_of_period,
    latest_flags.segment,
    latest_flags.quartile,
    latest_flags.recommended_action
from customers
cross join latest_as_of_period
left join latest_flags on customers.customer_id = latest_flags.customer_id
