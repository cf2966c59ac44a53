{{ config(meta={'dagster': {'ref': {'name': 'customer_policy_flags'}}}) }}
-- Every customer in scope has one row of policy flags: per as-of period, as many flags
-- rows as customer_profitability has customers (their sums: the generic test
-- customer_policy_flags_add_up_to_pnl).
with

flags as (
    select
        as_of_period,
        count(*) as customers
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
    scope.as_of_period,
    scope.customers as customers_in_scope,
    flags.customers as customers_flagged
from scope
left join flags on scope.as_of_period = flags.as_of_period
where flags.as_of_period is null
    or scope.customers <> flags.customers
