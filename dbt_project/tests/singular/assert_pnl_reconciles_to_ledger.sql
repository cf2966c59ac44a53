{{ config(meta={'dagster': {'ref': {'name': 'fct_invoice_line_pnl'}}}) }}
-- Per closed period, the P&L's invoice-row net revenue, COGS and freight cost are
-- within gl_tolerance (relative) of gl_summary; a missing ledger account fails too.
-- A monthly run checks the periods it rebuilt (older rows changed only their carrying
-- cost and bad debt); the audit after every run checks every period.
with

pnl as (
    select
        period,
        sum(net_revenue) as net_revenue,
        sum(cogs) as cogs,
        sum(freight_cost) as freight_cost
    from {{ ref('fct_invoice_line_pnl') }}
    where row_kind = 'invoice'
        and {{ in_requested_periods('period') }}
    group by period
),

pnl_by_account as (
    select
        period,
        'net_revenue' as account,
        net_revenue as pnl_amount
    from pnl
    union all
    select
        period,
        'cogs' as account,
        cogs as pnl_amount
    from pnl
    union all
    select
        period,
        'freight_cost' as account,
        freight_cost as pnl_amount
    from pnl
)

select
    pnl_by_account.period,
    pnl_by_account.account,
    pnl_by_account.pnl_amount,
    ledger.amount as ledger_amount
from pnl_by_account
left join {{ ref('stg_erp__gl_summary') }} as ledger
    on pnl_by_account.period = ledger.period
        and pnl_by_account.account = ledger.account
where ledger.amount is null
    or abs(pnl_by_account.pnl_amount - ledger.amount) > {{ var('gl_tolerance') }} * abs(ledger.amount)
