{{ config(meta={'dagster': {'ref': {'name': 'fct_invoice_line_pnl'}}}) }}
-- Every invoice line and return of a closed period is on the P&L exactly once, and
-- the P&L holds nothing else of those kinds. Documents are matched on their keys
-- (cheaper than on row_id strings; row_id is unique by its own test).
-- A monthly run checks the periods it rebuilt (older rows changed only their carrying
-- cost and bad debt); the audit after every run checks every period.
with

expected_invoice_lines as (
    select
        lines.invoice_id,
        lines.line_number
    from {{ ref('stg_erp__invoice_lines') }} as lines
    inner join {{ ref('stg_erp__invoices') }} as invoices on lines.invoice_id = invoices.invoice_id
    where invoices.period in (select closed.period from {{ ref('int_periods_closed') }} as closed)
        and {{ in_requested_periods('invoices.period') }}
),

invoice_rows as (
    select
        invoice_id,
        line_number,
        count(*) as occurrences
    from {{ ref('fct_invoice_line_pnl') }}
    where row_kind = 'invoice'
        and {{ in_requested_periods('period') }}
    group by invoice_id, line_number
),

expected_returns as (
    select return_id
    from {{ ref('stg_erp__returns') }}
    where period in (select closed.period from {{ ref('int_periods_closed') }} as closed)
        and {{ in_requested_periods('period') }}
),

return_rows as (
    select
        return_id,
        count(*) as occurrences
    from {{ ref('fct_invoice_line_pnl') }}
    where row_kind = 'return'
        and {{ in_requested_periods('period') }}
    group by return_id
)

select
    'invoice' as row_kind,
    coalesce(expected.invoice_id, actual.invoice_id) as document_id,
    coalesce(expected.line_number, actual.line_number) as line_number,
    coalesce(actual.occurrences, 0) as occurrences
from expected_invoice_lines as expected
full outer join invoice_rows as actual
    on expected.invoice_id = actual.invoice_id and expected.line_number = actual.line_number
where expected.invoice_id is null or actual.occurrences is null or actual.occurrences <> 1
union all
select
    'return' as row_kind,
    coalesce(expected.return_id, actual.return_id) as document_id,
    cast(null as integer) as line_number,
    coalesce(actual.occurrences, 0) as occurrences
from expected_returns as expected
full outer join return_rows as actual on expected.return_id = actual.return_id
where expected.return_id is null or actual.occurrences is null or actual.occurrences <> 1
