-- One row per invoice line of a closed period: its revenue, cost of goods,
-- freight, carrying cost and bad debt, and its units of every line-level driver
-- (METHOD.md, "The invoice-line P&L"). Incremental (macros/incremental.sql): a
-- build rebuilds the invoices of its periods, and the older invoices whose carrying
-- cost or bad debt changed since (a payment or a credit note arrived, the as-of date
-- moved on): int_invoices_settled is rebuilt whole on every run, and a return of a
-- later month that settles an older invoice changes that invoice's days_to_pay.
{{ config(materialized='incremental', unique_key='invoice_id') }}

with

{% if is_incremental() -%}
invoices_with_new_settlement as (
    select distinct costed.invoice_id
    from {{ this }} as costed
    inner join {{ ref('int_invoices_settled') }} as settlement
        on costed.invoice_id = settlement.invoice_id
    where costed.days_to_pay <> settlement.days_to_pay
        or costed.amount_written_off <> settlement.amount_written_off
),
{%- endif %}

shipments_by_invoice as (
    select
        invoice_id,
        count(*) as shipment_count,
        sum(freight_cost) as freight_cost
    from {{ ref('stg_erp__shipments') }}
    group by invoice_id
),

-- Invoice-level facts are joined at invoice grain, before the lines: DuckDB's join
-- planner underestimates the joined lines and would otherwise hash all of them.
invoices as (
    select
        invoices.*,
        coalesce(shipments_by_invoice.shipment_count, 0) as shipment_count,
        coalesce(shipments_by_invoice.freight_cost, 0) as invoice_freight_cost,
        settlement.days_to_pay,
        settlement.amount_written_off
    from {{ ref('stg_erp__invoices') }} as invoices
    inner join {{ ref('int_periods_closed') }} as closed_periods
        on invoices.period = closed_periods.period
    inner join {{ ref('int_invoices_settled') }} as settlement
        on invoices.invoice_id = settlement.invoice_id
    left join shipments_by_invoice on invoices.invoice_id = shipments_by_invoice.invoice_id
    where {{ in_rebuilt_periods('invoices.period') }}
    {%- if is_incremental() %}
        or invoices.invoice_id in (select invoice_id from invoices_with_new_settlement)
    {%- endif %}
),

lines as (
    select
        lines.invoice_id,
        lines.line_number,
        lines.sku,
        invoices.customer_id,
        invoices.period,
        invoices.order_channel,
        invoices.ship_method,
        invoices.freight_charged,
        invoices.expedite_charged,
        invoices.shipment_count,
        invoices.invoice_freight_cost,
        invoices.days_to_pay,
        invoices.amount_written_off,
        lines.quantity,
        lines.unit_list_price,
        lines.unit_price,
        coalesce(lines.unit_cost, products.standard_cost) as unit_cost_applied,
        lines.quantity * products.unit_weight_kg as weight_kg,
        lines.quantity * lines.unit_price as net_revenue
    from {{ ref('stg_erp__invoice_lines') }} as lines
    inner join invoices on lines.invoice_id = invoices.invoice_id
    inner join {{ ref('stg_erp__products') }} as products on lines.sku = products.sku
),

invoice_totals as (
    select
        invoice_id,
        count(*) as line_count,
        sum(weight_kg) as weight_kg,
        sum(net_revenue) as net_revenue
    from lines
    group by invoice_id
),

-- Weight and revenue shares fall back to equal shares when the invoice's total is 0.
lines_with_shares as (
    select
        lines.*,
        invoice_totals.line_count,
        {{ safe_ratio('lines.weight_kg', 'invoice_totals.weight_kg', '1.0 / invoice_totals.line_count') }}
            as weight_share,
        {{ safe_ratio('lines.net_revenue', 'invoice_totals.net_revenue', '1.0 / invoice_totals.line_count') }}
            as revenue_share
    from lines
    inner join invoice_totals on lines.invoice_id = invoice_totals.invoice_id
)

select
    -- ids
    invoice_id,
    line_number,
    customer_id,
    sku,
    period,
    -- numerics
    quantity,
    quantity * unit_list_price as gross_revenue,
    quantity * (unit_list_price - unit_price) as discount,
    net_revenue,
    freight_charged * weight_share as freight_revenue,
    {{ as_float('expedite_charged') }} / line_count as expedite_revenue,
    quantity * unit_cost_applied as cogs,
    invoice_freight_cost * weight_share as freight_cost,
    net_revenue * {{ var('cost_of_capital') }} * days_to_pay / 365.0 as carrying_cost,
    amount_written_off * revenue_share as bad_debt,
    -- driver units
    1.0 / line_count as units_orders,
    case
        when order_channel in ('phone', 'email', 'fax', 'rep') then 1.0 / line_count else 0
    end as units_manual_orders,
    case when ship_method = 'expedited' then 1.0 / line_count else 0 end as units_expedited_orders,
    {{ as_float('shipment_count') }} / line_count as units_shipments,
    1 as units_invoice_lines,
    quantity as units_units,
    weight_kg as units_weight_kg,
    net_revenue as units_revenue,
    -- what the carrying cost and bad debt were built from, and when
    days_to_pay,
    amount_written_off,
    {{ build_timestamp() }} as built_at
from lines_with_shares
