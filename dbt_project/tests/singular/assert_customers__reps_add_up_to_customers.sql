{{ config(meta={'dagster': {'ref': {'name': 'rep_profitability'}}}) }}
-- For every as-of period, the reps' books (house accounts included) hold every
-- customer in scope once: customers, revenue, cost to serve and net profit add up.
with

customers as (
    select
        as_of_period,
        count(*) as customers,
        sum(revenue) as revenue,
        sum(cost_to_serve) as cost_to_serve,
        sum(net_profit) as net_profit
    from {{ ref('customer_profitability') }}
    group by as_of_period
),

reps as (
    select
        as_of_period,
        sum(customers) as customers,
        sum(revenue) as revenue,
        sum(cost_to_serve) as cost_to_serve,
        sum(net_profit) as net_profit
    from {{ ref('rep_profitability') }}
    group by as_of_period
)

select
    customers.as_of_period,
    customers.customers,
    reps.customers as rep_customers,
    customers.net_profit,
    reps.net_profit as rep_net_profit
from customers
full outer join reps on customers.as_of_period = reps.as_of_period
where customers.as_of_period is null
    or reps.as_of_period is null
    or customers.customers <> reps.customers
    or abs(customers.revenue - reps.revenue) >= {{ half_cent() }}
    or abs(customers.cost_to_serve - reps.cost_to_serve) >= {{ half_cent() }}
    or abs(customers.net_profit - reps.net_profit) >= {{ half_cent() }}
