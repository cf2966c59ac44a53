{{ config(meta={'dagster': {'ref': {'name': 'fct_invoice_line_pnl'}}}) }}
-- Every invoice line and return of a closed period is on the P&L exactly once, and
-- the P&L holds nothing else of those kinds.
-- A monthly run checks the periods it rebuilt (older rows changed only their carrying
-- cost and bad debt); the audit after every run checks every period.
with

expected as (
    select
        {{ dbt.concat(["'invoice:'", "lines.invoice_id", "':'", "cast(lines.line_number as " ~ dbt.type_string() ~ ")"]) }}
            as row_id
    from {{ ref('stg_erp__invoice_lines') }} as lines
    inner join {{ ref('stg_erp__invoices') }} as invoices on lines.invoice_id = invoices.invoice_id
    where invoices.period in (select closed.period from {{ ref('int_periods_closed') }} as closed)
        and {{ in_requested_periods('invoices.period') }}
    union all
    select {{ dbt.concat(["'return:'", "return_id"]) }} as row_id
    from {{ ref('stg_erp__returns') }}
    where period in (select closed.period from {{ ref('int_periods_closed') }} as closed)
        and {{ in_requested_periods('period') }}
),

actual as (
    select
        row_id,
        count(*) as occurrences
    from {{ ref('fct_invoice_line_pnl') }}
    where row_kind in ('invoice', 'return')
        and {{ in_requested_periods('period') }}
    group by row_id
)

select
    coalesce(expected.row_id, actual.row_id) as row_id,
    coalesce(actual.occurrences, 0) as occurrences
from expected
full outer join actual on expected.row_id = actual.row_id
where expected.row_id is null or actual.occurrences is null or actual.occurrences <> 1
