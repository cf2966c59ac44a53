-- One row per as-of period: how concentrated revenue and profit are (METHOD.md,
-- "Concentration"). Customers are ranked by revenue, largest first (then
-- customer_id); the top p% are the first ceil(p% of customers in scope), at least
-- one. Their shares are of the totals over all customers in scope: the profit share
-- of the largest customers, not of the most profitable ones (the whale curve has
-- those). herfindahl_index is the sum of squared revenue shares, from 1 / customers
-- (all equal) to 1 (one customer).

with

ranked as (
    select
        as_of_period,
        customer_id,
        revenue,
        net_profit,
        row_number() over (partition by as_of_period order by revenue desc, customer_id asc) as revenue_rank,
        count(*) over (partition by as_of_period) as customers,
        sum(revenue) over (partition by as_of_period) as total_revenue
    from {{ ref('customer_profitability') }}
),

totals as (
    select
        as_of_period,
        max(customers) as customers,
        sum(revenue) as revenue,
        sum(net_profit) as net_profit,
        -- the top p%: rank <= ceil(p% * customers), written without ceil as rank - 1 < p% * customers
        sum(case when revenue_rank - 1 < 0.01 * customers then revenue else 0 end) as top_1pct_revenue,
        sum(case when revenue_rank - 1 < 0.05 * customers then revenue else 0 end) as top_5pct_revenue,
        sum(case when revenue_rank - 1 < 0.10 * customers then revenue else 0 end) as top_10pct_revenue,
        sum(case when revenue_rank - 1 < 0.20 * customers then revenue else 0 end) as top_20pct_revenue,
        sum(case when revenue_rank - 1 < 0.01 * customers then net_profit else 0 end) as top_1pct_net_profit,
        sum(case when revenue_rank - 1 < 0.05 * customers then net_profit else 0 end) as top_5pct_net_profit,
        sum(case when revenue_rank - 1 < 0.10 * customers then net_profit else 0 end) as top_10pct_net_profit,
        sum(case when revenue_rank - 1 < 0.20 * customers then net_profit else 0 end) as top_20pct_net_profit,
        sum(
            {{ safe_ratio('revenue', 'total_revenue', '0') }} * {{ safe_ratio('revenue', 'total_revenue', '0') }}
        ) as herfindahl_index,
        sum(
            case
                when {{ safe_ratio('revenue', 'total_revenue', '0') }} > {{ var('major_customer_revenue_share') }}
                    then 1
                else 0
            end
        ) as major_customers,
        max({{ safe_ratio('revenue', 'total_revenue') }}) as largest_customer_revenue_share
    from ranked
    group by as_of_period
)

select
    totals.as_of_period,
    cast(totals.customers as integer) as customers,
    {{ money('totals.revenue') }} as revenue,
    {{ money('totals.net_profit') }} as net_profit,
    {{ safe_ratio('totals.top_1pct_revenue', 'totals.revenue') }} as top_1pct_revenue_share,
    {{ safe_ratio('totals.top_5pct_revenue', 'totals.revenue') }} as top_5pct_revenue_share,
    {{ safe_ratio('totals.top_10pct_revenue', 'totals.revenue') }} as top_10pct_revenue_share,
    {{ safe_ratio('totals.top_20pct_revenue', 'totals.revenue') }} as top_20pct_revenue_share,
    {{ safe_ratio('totals.top_1pct_net_profit', 'totals.net_profit') }} as top_1pct_profit_share,
    {{ safe_ratio('totals.top_5pct_net_profit', 'totals.net_profit') }} as top_5pct_profit_share,
    {{ safe_ratio('totals.top_10pct_net_profit', 'totals.net_profit') }} as top_10pct_profit_share,
    {{ safe_ratio('totals.top_20pct_net_profit', 'totals.net_profit') }} as top_20pct_profit_share,
    {{ as_float('totals.herfindahl_index') }} as herfindahl_index,
    totals.largest_customer_revenue_share,
    cast(totals.major_customers as integer) as major_customers,
    as_of_periods.is_full_window
from totals
inner join {{ ref('int_as_of_periods') }} as as_of_periods
    on totals.as_of_period = as_of_periods.as_of_period
