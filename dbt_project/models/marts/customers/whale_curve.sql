-- One row per as-of period and customer rank: cumulative net profit (share of the
-- total) against the cumulative share of customers, most profitable first.
with

ranked as (
    select
        as_of_period,
        customer_id,
        segment,
        net_profit,
        row_number() over (
            partition by as_of_period order by net_profit desc, customer_id asc
        ) as customer_rank,
        count(*) over (partition by as_of_period) as customers,
        sum(net_profit) over (partition by as_of_period) as total_net_profit
    from {{ ref('customer_segments') }}
),

accumulated as (
    select
        *,
        sum(net_profit) over (
            partition by as_of_period order by customer_rank rows between unbounded preceding and current row
        ) as cumulative_net_profit
    from ranked
)

select
    as_of_period,
    cast(customer_rank as integer) as customer_rank,
    customer_id,
    {{ money('net_profit') }} as net_profit,
    {{ as_float('customer_rank') }} / customers as cumulative_customer_share,
    {{ safe_ratio('cumulative_net_profit', 'total_net_profit') }} as cumulative_profit_share,
    segment,
    {{ money('cumulative_net_profit') }} as cumulative_net_profit
from accumulated
