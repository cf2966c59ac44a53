-- One row per product (sku), return reason and closed period: the SKU's return rows of
-- the P&L (so only returns of closed periods, in the return's period) by the return's
-- reason_code (CONTRACT.md; null when the ERP gave none). Incremental: a build redoes
-- the periods in which the P&L changed since its last build (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='period') }}

with

return_rows as (
    select * from {{ ref('fct_invoice_line_pnl') }}
    where row_kind = 'return'
    {%- if is_incremental() %}
        and period in ({{ periods_built_since_last_build(ref('fct_invoice_line_pnl')) }})
    {%- endif %}
)

select
    return_rows.sku,
    returns.reason_code,
    return_rows.period,
    {{ period_index('return_rows.period') }} as period_index,
    count(*) as return_count,
    sum(-return_rows.quantity) as units_returned,
    {{ build_timestamp() }} as built_at
from return_rows
inner join {{ ref('stg_erp__returns') }} as returns on return_rows.return_id = returns.return_id
group by return_rows.sku, returns.reason_code, return_rows.period
