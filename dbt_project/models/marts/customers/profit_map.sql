-- One row per as-of period, segment and quartile: the profit map (METHOD.md). Each
-- cell's shares are of the as-of period's totals over all customers in scope.
with

cells as (
    select
        as_of_period,
        segment,
        quartile,
        count(*) as customers,
        sum(revenue) as revenue,
        sum(cost_to_serve) as cost_to_serve,
        sum(net_profit) as net_profit
    from {{ ref('customer_segments') }}
    group by as_of_period, segment, quartile
)

select
    cells.as_of_period,
    cells.segment,
    cells.quartile,
    cast(cells.customers as integer) as customers,
    {{ money('cells.revenue') }} as revenue,
    {{ money('cells.net_profit') }} as net_profit,
    {{ money('cells.net_profit / cells.customers') }} as profit_per_customer,
    {{ safe_ratio('cells.net_profit', 'sum(cells.net_profit) over (partition by cells.as_of_period)') }}
        as share_of_profit,
    {{ safe_ratio('cells.customers', 'sum(cells.customers) over (partition by cells.as_of_period)') }}
        as share_of_customers,
    {{ safe_ratio('cells.revenue', 'sum(cells.revenue) over (partition by cells.as_of_period)') }}
        as share_of_revenue,
    {{ money('cells.cost_to_serve') }} as cost_to_serve,
    {{ safe_ratio('cells.cost_to_serve', 'sum(cells.cost_to_serve) over (partition by cells.as_of_period)') }}
        as share_of_cost_to_serve,
    as_of_periods.is_full_window
from cells
inner join {{ ref('int_as_of_periods') }} as as_of_periods
    on cells.as_of_period = as_of_periods.as_of_period
