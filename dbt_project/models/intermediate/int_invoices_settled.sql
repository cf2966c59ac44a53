-- Payments and write-offs known at the as-of date, and how long each invoice
-- took to pay (METHOD.md, carrying cost and bad debt).
with

invoices as (
    select
        invoice_id,
        invoice_date
    from {{ ref('stg_erp__invoices') }}
),

invoice_totals as (
    select
        invoices.invoice_id,
        sum(lines.quantity * lines.unit_price)
        + max(invoices.freight_charged) + max(invoices.expedite_charged) as amount_billed
    from {{ ref('stg_erp__invoices') }} as invoices
    inner join {{ ref('stg_erp__invoice_lines') }} as lines
        on invoices.invoice_id = lines.invoice_id
    group by invoices.invoice_id
),

as_of as (
    select max(as_of_date) as as_of_date from {{ ref('int_periods_closed') }}
),

-- Payments dated after the as-of date are not known yet.
known_payments as (
    select payments.*
    from {{ ref('stg_erp__payments') }} as payments
    cross join as_of
    where payments.payment_date <= as_of.as_of_date
),

payments_by_invoice as (
    select
        invoice_id,
        sum(amount) as amount_paid,
        sum(case when kind = 'write_off' then amount else 0 end) as amount_written_off,
        max(payment_date) as last_payment_date
    from known_payments
    group by invoice_id
),

settlement as (
    select
        invoices.invoice_id,
        invoices.invoice_date,
        invoice_totals.amount_billed,
        coalesce(payments_by_invoice.amount_paid, 0) as amount_paid,
        coalesce(payments_by_invoice.amount_written_off, 0) as amount_written_off,
        payments_by_invoice.last_payment_date,
        coalesce(payments_by_invoice.amount_paid, 0)
        >= invoice_totals.amount_billed - {{ var('settlement_tolerance') }} as is_settled,
        as_of.as_of_date
    from invoices
    inner join invoice_totals on invoices.invoice_id = invoice_totals.invoice_id
    cross join as_of
    left join payments_by_invoice on invoices.invoice_id = payments_by_invoice.invoice_id
)

select
    invoice_id,
    amount_billed,
    amount_paid,
    amount_written_off,
    is_settled,
    last_payment_date,
    greatest(
        0,
        {{ dbt.datediff('invoice_date', 'case when is_settled then last_payment_date else as_of_date end', 'day') }}
    ) as days_to_pay
from settlement
