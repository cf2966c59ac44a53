-- One row per return of a closed period, costed against the line it returns
-- (METHOD.md, "For a return row"): the credit reverses revenue, restocked goods
-- reverse their cost, no freight, carrying cost or bad debt. Incremental: a build
-- rebuilds the returns of its periods (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='return_id') }}

with

returns as (
    select returns.*
    from {{ ref('stg_erp__returns') }} as returns
    inner join {{ ref('int_periods_closed') }} as closed_periods
        on returns.period = closed_periods.period
    where {{ in_rebuilt_periods('returns.period') }}
),

original_lines as (
    select
        lines.invoice_id,
        lines.line_number,
        lines.sku,
        invoices.customer_id,
        coalesce(lines.unit_cost, products.standard_cost) as unit_cost_applied
    from {{ ref('stg_erp__invoice_lines') }} as lines
    inner join {{ ref('stg_erp__invoices') }} as invoices on lines.invoice_id = invoices.invoice_id
    inner join {{ ref('stg_erp__products') }} as products on lines.sku = products.sku
)

select
    -- ids
    returns.return_id,
    returns.invoice_id,
    returns.line_number,
    original_lines.customer_id,
    original_lines.sku,
    returns.period,
    -- numerics
    -returns.quantity as quantity,
    -returns.credit_amount as net_revenue,
    returns.restocking_fee_charged as restocking_fee_revenue,
    case
        when returns.disposition = 'restock' then -returns.quantity * original_lines.unit_cost_applied
        else 0
    end as cogs,
    -- driver units
    1 as units_returns,
    returns.quantity as units_return_units,
    {{ build_timestamp() }} as built_at
from returns
inner join original_lines
    on returns.invoice_id = original_lines.invoice_id
        and returns.line_number = original_lines.line_number
