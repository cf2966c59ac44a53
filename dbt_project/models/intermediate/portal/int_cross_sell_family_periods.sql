-- One row per customer, product family and closed period with invoice or return rows
-- of the family's SKUs: whether the customer bought the family that period (an
-- invoice row) and the family's net profit on its rows (invoices and returns), the
-- per-period facts of the basket model (METHOD.md, "The desert portal").
with

family_rows as (
    select
        pnl.customer_id,
        products.product_family,
        pnl.period,
        pnl.row_kind,
        pnl.net_profit
    from {{ ref('fct_invoice_line_pnl') }} as pnl
    inner join {{ ref('stg_erp__products') }} as products on pnl.sku = products.sku
    where pnl.row_kind in ('invoice', 'return')
)

select
    family_rows.customer_id,
    family_rows.product_family,
    family_rows.period,
    closed_periods.period_index,
    bool_or(family_rows.row_kind = 'invoice') as bought,
    {{ money('sum(family_rows.net_profit)') }} as net_profit
from family_rows
inner join {{ ref('int_periods_closed') }} as closed_periods
    on family_rows.period = closed_periods.period
group by family_rows.customer_id, family_rows.product_family, family_rows.period, closed_periods.period_index
