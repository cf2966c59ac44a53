{{ config(meta={'dagster': {'ref': {'name': 'whale_curve'}}}) }}
-- The whale curve of every as-of period ends at 100% of customers and 100% of the
-- net profit of customer_segments, whatever shape it takes on the way.
with

totals as (
    select
        as_of_period,
        count(*) as customers,
        sum(net_profit) as net_profit
    from {{ ref('customer_segments') }}
    group by as_of_period
),

last_points as (
    select
        as_of_period,
        customer_rank,
        cumulative_customer_share,
        cumulative_profit_share,
        cumulative_net_profit
    from {{ ref('whale_curve') }}
    where cumulative_customer_share >= 1
)

select
    totals.as_of_period,
    totals.customers,
    last_points.customer_rank,
    last_points.cumulative_profit_share,
    last_points.cumulative_net_profit
from totals
left join last_points on totals.as_of_period = last_points.as_of_period
where last_points.as_of_period is null
    or last_points.customer_rank <> totals.customers
    or abs(last_points.cumulative_net_profit - totals.net_profit) >= {{ half_cent() }}
    or (totals.net_profit <> 0 and abs(last_points.cumulative_profit_share - 1) > 0.000001)
