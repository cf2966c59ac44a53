-- One row per product (sku) and closed period: the P&L rows of the SKU added up
-- (invoice and return rows; unattached and pool rows carry no SKU). The rolling
-- windows of product_profitability add these up. Incremental: a build redoes the
-- periods in which the P&L changed since its last build (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='period') }}

with

product_rows as (
    select * from {{ ref('fct_invoice_line_pnl') }}
    where sku is not null
    {%- if is_incremental() %}
        and period in ({{ periods_built_since_last_build(ref('fct_invoice_line_pnl')) }})
    {%- endif %}
)

select
    sku,
    period,
    {{ period_index('period') }} as period_index,
    sum(case when row_kind = 'invoice' then quantity else 0 end) as units_sold,
    sum(case when row_kind = 'return' then -quantity else 0 end) as units_returned,
    sum(case when row_kind = 'invoice' then 1 else 0 end) as line_count,
    sum(case when row_kind = 'return' then 1 else 0 end) as return_count,
    sum(net_revenue) as revenue,
    sum(freight_revenue + expedite_revenue + restocking_fee_revenue) as other_revenue,
    sum(cogs) as cogs,
    sum(freight_cost + pool_cost_total + carrying_cost + bad_debt) as cost_to_serve,
    sum(net_profit) as net_profit,
    {{ build_timestamp() }} as built_at
from product_rows
group by sku, period
