-- One row per invoice: what was known at the as-of date to count towards its total,
-- the write-offs among it, and how long the invoice took to settle (METHOD.md,
-- carrying cost and bad debt). Customers pay net of credit notes, so payments of
-- both kinds and the net credit of the invoice's returns (credit less restocking
-- fee) count, each on its own date; the invoice is settled on the first date their
-- running sum reaches its total less `settlement_tolerance` (0.01). An invoice whose
-- total is at most that is settled on its invoice date. Everything is added up in
-- decimals, so the settled date does not depend on the order of a sum.
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

-- What is dated after the as-of date is not known yet.
settlements as (
    select
        payments.invoice_id,
        payments.payment_date as settlement_date,
        payments.amount as amount_paid,
        case when payments.kind = 'write_off' then payments.amount else 0 end as amount_written_off,
        0 as amount_credited
    from {{ ref('stg_erp__payments') }} as payments
    cross join as_of
    where payments.payment_date <= as_of.as_of_date
    union all
    select
        returns.invoice_id,
        returns.return_date as settlement_date,
        0 as amount_paid,
        0 as amount_written_off,
        returns.credit_amount - returns.restocking_fee_charged as amount_credited
    from {{ ref('stg_erp__returns') }} as returns
    cross join as_of
    where returns.return_date <= as_of.as_of_date
),

settlements_by_date as (
    select
        invoice_id,
        settlement_date,
        sum(amount_paid) as amount_paid,
        sum(amount_written_off) as amount_written_off,
        sum(amount_credited) as amount_credited
    from settlements
    group by invoice_id, settlement_date
),

running_totals as (
    select
        invoice_id,
        settlement_date,
        amount_paid,
        amount_written_off,
        amount_credited,
        sum(amount_paid + amount_credited) over (
            partition by invoice_id order by settlement_date rows between unbounded preceding and current row
        ) as amount_settled_to_date
    from settlements_by_date
),

settlements_by_invoice as (
    select
        running_totals.invoice_id,
        sum(running_totals.amount_paid) as amount_paid,
        sum(running_totals.amount_written_off) as amount_written_off,
        sum(running_totals.amount_credited) as amount_credited,
        max(running_totals.settlement_date) as last_settlement_date,
        min(
            case
                when running_totals.amount_settled_to_date
                    >= invoice_totals.amount_billed - {{ var('settlement_tolerance') }}
                    then running_totals.settlement_date
            end
        ) as first_settled_date
    from running_totals
    inner join invoice_totals on running_totals.invoice_id = invoice_totals.invoice_id
    group by running_totals.invoice_id
),

settlement as (
    select
        invoices.invoice_id,
        invoices.invoice_date,
        invoice_totals.amount_billed,
        coalesce(settlements_by_invoice.amount_paid, 0) as amount_paid,
        coalesce(settlements_by_invoice.amount_written_off, 0) as amount_written_off,
        coalesce(settlements_by_invoice.amount_credited, 0) as amount_credited,
        settlements_by_invoice.last_settlement_date,
        case
            when invoice_totals.amount_billed <= {{ var('settlement_tolerance') }} then invoices.invoice_date
            else settlements_by_invoice.first_settled_date
        end as settled_date,
        as_of.as_of_date
    from invoices
    inner join invoice_totals on invoices.invoice_id = invoice_totals.invoice_id
    cross join as_of
    left join settlements_by_invoice on invoices.invoice_id = settlements_by_invoice.invoice_id
)

select
    invoice_id,
    amount_billed,
    amount_paid,
    amount_written_off,
    amount_credited,
    settled_date is not null as is_settled,
    settled_date,
    last_settlement_date,
    greatest(
        0,
        {{ dbt.datediff('invoice_date', 'coalesce(settled_date, as_of_date)', 'day') }}
    ) as days_to_pay
from settlement
