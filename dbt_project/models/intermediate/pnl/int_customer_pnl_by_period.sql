-- One row per customer and closed period: the customer's P&L rows added up, with
-- its activity counts. The rolling windows of the customer marts add these up.
-- Incremental: a build redoes the periods in which the P&L changed since its last
-- build (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='period') }}

with

pnl as (
    select * from {{ ref('fct_invoice_line_pnl') }}
    where customer_id is not null
    {%- if is_incremental() %}
        and period in ({{ periods_built_since_last_build(ref('fct_invoice_line_pnl')) }})
    {%- endif %}
),

activity as (
    select * from {{ ref('int_customer_activity_by_period') }}
),

customer_periods as (
    select
        customer_id,
        period,
        sum(net_revenue) as revenue,
        sum(freight_revenue + expedite_revenue + restocking_fee_revenue) as other_revenue,
        sum(cogs) as cogs,
        sum(freight_cost) as freight_cost,
        sum(pool_cost_total) as pool_cost_total,
        sum(pool_cost_variable) as pool_cost_variable,
        sum(carrying_cost) as carrying_cost,
        sum(bad_debt) as bad_debt,
        sum(net_profit) as net_profit,
        count(distinct case when row_kind = 'invoice' then invoice_id end) as invoice_count,
        sum(case when row_kind = 'invoice' then 1 else 0 end) as line_count,
        sum(case when row_kind = 'return' then 1 else 0 end) as return_count,
        sum(case when row_kind = 'invoice' then net_revenue else 0 end) as invoiced_revenue
    from pnl
    group by customer_id, period
)

select
    customer_periods.*,
    coalesce(activity.service_contacts, 0) as service_contacts,
    {{ period_index('customer_periods.period') }} as period_index,
    {{ build_timestamp() }} as built_at
from customer_periods
left join activity
    on customer_periods.customer_id = activity.customer_id
        and customer_periods.period = activity.period
