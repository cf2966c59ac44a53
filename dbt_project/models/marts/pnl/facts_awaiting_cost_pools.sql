-- One row per kind of fact and period that has no cost pools yet: these facts wait
-- outside the P&L until their period closes (METHOD.md, "Periods").
with

facts as (
    select
        'invoice_lines' as fact,
        invoices.period
    from {{ ref('stg_erp__invoice_lines') }} as lines
    inner join {{ ref('stg_erp__invoices') }} as invoices on lines.invoice_id = invoices.invoice_id
    union all
    select
        'returns' as fact,
        period
    from {{ ref('stg_erp__returns') }}
    union all
    select
        'service_contacts' as fact,
        period
    from {{ ref('stg_erp__service_contacts') }}
    union all
    select
        'sales_activities' as fact,
        period
    from {{ ref('stg_erp__sales_activities') }}
)

select
    facts.fact,
    facts.period,
    cast(count(*) as integer) as waiting
from facts
left join {{ ref('int_periods_closed') }} as closed_periods on facts.period = closed_periods.period
where closed_periods.period is null
group by facts.fact, facts.period
