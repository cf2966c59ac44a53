{{ config(meta={'dagster': {'ref': {'name': 'rep_workload'}}}) }}
-- Every rep's workload rows, over its segments, add up to its book in
-- rep_profitability: the same customers and the same net profit to the cent, per
-- as-of period (house accounts, rep_id null, included).
with

workload as (
    select
        as_of_period,
        rep_id,
        sum(customers) as customers,
        sum(net_profit) as net_profit
    from {{ ref('rep_workload') }}
    group by as_of_period, rep_id
)

select
    coalesce(workload.as_of_period, reps.as_of_period) as as_of_period,
    coalesce(workload.rep_id, reps.rep_id) as rep_id,
    workload.customers as workload_customers,
    reps.customers as rep_customers,
    workload.net_profit as workload_net_profit,
    reps.net_profit as rep_net_profit
from workload
full outer join {{ ref('rep_profitability') }} as reps
    on workload.as_of_period = reps.as_of_period
        and workload.rep_id is not distinct from reps.rep_id
where workload.customers is distinct from reps.customers
    or abs(coalesce(workload.net_profit, 0) - coalesce(reps.net_profit, 0)) >= {{ half_cent() }}
