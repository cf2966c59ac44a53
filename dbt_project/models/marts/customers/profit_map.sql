-- One row per as-of period, segment and quartile: the profit map.
with

cells as (
    select
        as_of_period,
        segment,
        quartile,
        count(*) as customers,
        sum(revenue) as revenue,
        sum(net_profit) as net_profit
    from {{ ref('customer_segments') }}
    group by as_of_period, segment, quartile
)

select
    as_of_period,
    segment,
    quartile,
    cast(customers as integer) as customers,
    {{ money('revenue') }} as revenue,
    {{ money('net_profit') }} as net_profit,
    {{ money('net_profit / customers') }} as profit_per_customer,
    {{ safe_ratio('net_profit', 'sum(net_profit) over (partition by as_of_period)') }} as share_of_profit
from cells
