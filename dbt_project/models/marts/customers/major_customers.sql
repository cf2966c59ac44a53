-- One row per as-of period and major customer: every customer whose revenue is above
-- `major_customer_revenue_share` (default 0.10) of the revenue of all customers in
-- scope, the level at which public companies must disclose a major customer
-- (METHOD.md, "Concentration").
with

customers as (
    select
        profitability.as_of_period,
        profitability.customer_id,
        segments.segment,
        profitability.revenue,
        profitability.net_profit,
        sum(profitability.revenue) over (partition by profitability.as_of_period) as total_revenue,
        sum(profitability.net_profit) over (partition by profitability.as_of_period) as total_net_profit
    from {{ ref('customer_profitability') }} as profitability
    inner join {{ ref('customer_segments') }} as segments
        on profitability.customer_id = segments.customer_id
            and profitability.as_of_period = segments.as_of_period
),

shares as (
    select
        as_of_period,
        customer_id,
        segment,
        revenue,
        net_profit,
        {{ safe_ratio('revenue', 'total_revenue') }} as revenue_share,
        {{ safe_ratio('net_profit', 'total_net_profit') }} as profit_share,
        row_number() over (partition by as_of_period order by revenue desc, customer_id asc) as revenue_rank
    from customers
)

select
    as_of_period,
    customer_id,
    cast(revenue_rank as integer) as revenue_rank,
    segment,
    revenue,
    net_profit,
    revenue_share,
    profit_share
from shares
where revenue_share > {{ var('major_customer_revenue_share') }}
