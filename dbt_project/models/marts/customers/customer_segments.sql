-- One row per customer and as-of period: its segment (profit peak, drain or desert)
-- and its quartile within the segment (METHOD.md, "Customers: rollup and segments").
with

customers as (
    select
        customer_id,
        as_of_period,
        revenue,
        cost_to_serve,
        net_profit,
        net_margin
    from {{ ref('customer_profitability') }}
),

company as (
    select
        as_of_period,
        {{ safe_ratio('sum(net_profit)', 'sum(revenue)') }} as company_margin,
        {{ percentile_cont('revenue', var('desert_revenue_percentile')) }} as high_revenue_threshold
    from customers
    group by as_of_period
),

-- High revenue is revenue above 0 and at least the percentile: when more than half of
-- the customers have no revenue the percentile is 0, and a customer without revenue
-- is still a desert, not a drain. net_profit >= company_margin * revenue is
-- net_profit / revenue >= company_margin without dividing, as revenue > 0 here.
segmented as (
    select
        customers.*,
        company.company_margin,
        company.high_revenue_threshold,
        case
            when customers.revenue <= 0 or customers.revenue < company.high_revenue_threshold then 'profit_desert'
            when customers.net_profit > 0
                and customers.net_profit >= company.company_margin * customers.revenue
                then 'profit_peak'
            else 'profit_drain'
        end as segment
    from customers
    inner join company on customers.as_of_period = company.as_of_period
)

select
    customer_id,
    as_of_period,
    segment,
    cast(ntile(4) over (
        partition by as_of_period, segment order by net_profit desc, customer_id asc
    ) as integer) as quartile,
    revenue,
    net_profit,
    company_margin,
    {{ money('high_revenue_threshold') }} as high_revenue_threshold,
    cost_to_serve,
    net_margin
from segmented
