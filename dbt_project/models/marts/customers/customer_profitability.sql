-- One row per customer and as-of period: the customer's P&L over the window of
-- `window_months` closed months ending at the as-of period (METHOD.md). Customers
-- in scope are those with any P&L row in the window.
with

as_of_periods as (
    select
        period as as_of_period,
        period_index as as_of_index
    from {{ ref('int_periods_closed') }}
),

windowed as (
    select
        customer_periods.customer_id,
        as_of_periods.as_of_period,
        sum(customer_periods.revenue) as revenue,
        sum(customer_periods.other_revenue) as other_revenue,
        sum(customer_periods.cogs) as cogs,
        sum(customer_periods.freight_cost) as freight_cost,
        sum(customer_periods.pool_cost_total) as pool_cost_total,
        sum(customer_periods.pool_cost_variable) as pool_cost_variable,
        sum(customer_periods.carrying_cost) as carrying_cost,
        sum(customer_periods.bad_debt) as bad_debt,
        sum(customer_periods.net_profit) as net_profit,
        sum(customer_periods.invoice_count) as invoice_count,
        sum(customer_periods.line_count) as line_count,
        sum(customer_periods.return_count) as return_count,
        sum(customer_periods.service_contacts) as service_contacts,
        sum(customer_periods.invoiced_revenue) as invoiced_revenue
    from {{ ref('int_customer_pnl_by_period') }} as customer_periods
    inner join as_of_periods
        on customer_periods.period_index
            between as_of_periods.as_of_index - {{ var('window_months') }} + 1 and as_of_periods.as_of_index
    group by customer_periods.customer_id, as_of_periods.as_of_period
)

select
    customer_id,
    as_of_period,
    {{ money('revenue') }} as revenue,
    {{ money('other_revenue') }} as other_revenue,
    {{ money('cogs') }} as cogs,
    {{ money('revenue + other_revenue - cogs') }} as gross_margin,
    {{ money('freight_cost') }} as freight_cost,
    {{ money('pool_cost_total') }} as pool_cost_total,
    {{ money('pool_cost_variable') }} as pool_cost_variable,
    {{ money('carrying_cost') }} as carrying_cost,
    {{ money('bad_debt') }} as bad_debt,
    {{ money('freight_cost + pool_cost_total + carrying_cost + bad_debt') }} as cost_to_serve,
    {{ money('net_profit') }} as net_profit,
    {{ safe_ratio('net_profit', 'revenue') }} as net_margin,
    cast(invoice_count as integer) as invoice_count,
    cast(line_count as integer) as line_count,
    cast(return_count as integer) as return_count,
    cast(service_contacts as integer) as service_contacts,
    {{ money(safe_ratio('invoiced_revenue', 'invoice_count')) }} as average_order_value
from windowed
