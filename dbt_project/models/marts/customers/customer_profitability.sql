-- One row per customer and as-of period: the customer's P&L over the window of
-- `window_months` closed months ending at the as-of period (METHOD.md), its cost to
-- serve by component and its activity. Customers in scope are those with any P&L
-- row in the window. Customer and period are added up first (int_*_by_period),
-- then each period is added to the window_months as-of periods whose window holds it.
-- Incremental: a build redoes only the as-of periods whose window holds a period
-- that changed since its last build (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='as_of_period') }}

with

{% if is_incremental() -%}
changed_periods as (
    {{ periods_built_since_last_build(ref('int_customer_pnl_by_period')) }}
    union
    {{ periods_built_since_last_build(ref('int_customer_cost_to_serve_by_period')) }}
),
{%- endif %}

as_of_periods as (
    select
        as_of_period,
        as_of_index
    -- The alias serves the incremental filter below, absent from a full build.
    from {{ ref('int_as_of_periods') }} as as_of_periods -- noqa: AL05
    {%- if is_incremental() %}
    where exists (
        select 1
        from changed_periods
        where {{ in_as_of_window(period_index('changed_periods.period'), 'as_of_periods.as_of_index') }}
    )
    {%- endif %}
),

customer_periods as (
    select
        pnl.*,
        coalesce(activity.order_handling_cost, 0) as order_handling_cost,
        coalesce(activity.picking_and_shipping_cost, 0) as picking_and_shipping_cost,
        coalesce(activity.returns_cost, 0) as returns_cost,
        coalesce(activity.service_cost, 0) as service_cost,
        coalesce(activity.sales_cost, 0) as sales_cost,
        coalesce(activity.orders, 0) as orders,
        coalesce(activity.manual_orders, 0) as manual_orders,
        coalesce(activity.expedited_orders, 0) as expedited_orders,
        coalesce(activity.units_sold, 0) as units_sold,
        coalesce(activity.units_returned, 0) as units_returned,
        coalesce(activity.service_minutes, 0) as service_minutes,
        coalesce(activity.sales_minutes, 0) as sales_minutes,
        coalesce(activity.gross_revenue, 0) as gross_revenue,
        coalesce(activity.discount, 0) as discount
    from {{ ref('int_customer_pnl_by_period') }} as pnl
    left join {{ ref('int_customer_cost_to_serve_by_period') }} as activity
        on pnl.customer_id = activity.customer_id
            and pnl.period = activity.period
),

windowed as (
    select
        customer_periods.customer_id,
        as_of_periods.as_of_period,
        sum(customer_periods.revenue) as revenue,
        sum(customer_periods.other_revenue) as other_revenue,
        sum(customer_periods.cogs) as cogs,
        sum(customer_periods.freight_cost) as freight_cost,
        sum(customer_periods.order_handling_cost) as order_handling_cost,
        sum(customer_periods.picking_and_shipping_cost) as picking_and_shipping_cost,
        sum(customer_periods.returns_cost) as returns_cost,
        sum(customer_periods.service_cost) as service_cost,
        sum(customer_periods.sales_cost) as sales_cost,
        sum(customer_periods.pool_cost_total) as pool_cost_total,
        sum(customer_periods.pool_cost_variable) as pool_cost_variable,
        sum(customer_periods.carrying_cost) as carrying_cost,
        sum(customer_periods.bad_debt) as bad_debt,
        sum(customer_periods.net_profit) as net_profit,
        sum(customer_periods.invoice_count) as invoice_count,
        sum(customer_periods.line_count) as line_count,
        sum(customer_periods.return_count) as return_count,
        sum(customer_periods.service_contacts) as service_contacts,
        sum(customer_periods.invoiced_revenue) as invoiced_revenue,
        sum(customer_periods.manual_orders) as manual_orders,
        sum(customer_periods.expedited_orders) as expedited_orders,
        sum(customer_periods.units_sold) as units_sold,
        sum(customer_periods.units_returned) as units_returned,
        sum(customer_periods.service_minutes) as service_minutes,
        sum(customer_periods.sales_minutes) as sales_minutes,
        sum(customer_periods.gross_revenue) as gross_revenue,
        sum(customer_periods.discount) as discount
    from customer_periods
    inner join as_of_periods
        on {{ in_as_of_window('customer_periods.period_index', 'as_of_periods.as_of_index') }}
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
    {{ money(safe_ratio('invoiced_revenue', 'invoice_count')) }} as average_order_value,
    -- cost to serve by component: freight_cost, carrying_cost and bad_debt above, and
    -- the pools by their driver (the seed cost_drivers)
    {{ money('order_handling_cost') }} as order_handling_cost,
    {{ money('picking_and_shipping_cost') }} as picking_and_shipping_cost,
    {{ money('returns_cost') }} as returns_cost,
    {{ money('service_cost') }} as service_cost,
    {{ money('sales_cost') }} as sales_cost,
    -- activity
    cast(manual_orders as integer) as manual_order_count,
    {{ safe_ratio('manual_orders', 'invoice_count') }} as manual_order_share,
    cast(expedited_orders as integer) as expedited_order_count,
    {{ safe_ratio('expedited_orders', 'invoice_count') }} as expedited_order_share,
    {{ money('units_sold') }} as units_sold,
    {{ money('units_returned') }} as units_returned,
    {{ as_float('service_minutes') }} as service_minutes,
    {{ as_float('sales_minutes') }} as sales_minutes,
    {{ money('gross_revenue') }} as gross_revenue,
    {{ money('discount') }} as discount,
    {{ safe_ratio('discount', 'gross_revenue') }} as discount_share,
    {{ build_timestamp() }} as built_at
from windowed
