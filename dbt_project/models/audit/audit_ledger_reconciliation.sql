-- One row per closed period and ledger account of gl_summary (CONTRACT.md): the P&L's
-- invoice-row net revenue, COGS and freight cost against the ledger, within the
-- relative tolerance var('gl_tolerance') (the one setting, OASIS_AUDIT_GL_TOLERANCE).
-- A missing ledger amount does not reconcile. The one home of the ledger
-- reconciliation, read by the dbt test, the Great Expectations suite and the report.
-- Incremental: a build rebuilds its requested periods (a monthly run leaves older
-- invoice rows' net revenue, COGS and freight cost as they were).
{{ config(materialized='incremental', unique_key=['period', 'account']) }}

with

closed_periods as (
    select period
    from {{ ref('int_periods_closed') }}
    where {{ in_rebuilt_periods('period') }}
),

pnl as (
    select
        period,
        sum(net_revenue) as net_revenue,
        sum(cogs) as cogs,
        sum(freight_cost) as freight_cost
    from {{ ref('fct_invoice_line_pnl') }}
    where row_kind = 'invoice'
        and {{ in_rebuilt_periods('period') }}
    group by period
),

-- The accounts of gl_summary (CONTRACT.md) and the P&L column each holds.
accounts as (
    select 'net_revenue' as account
    union all
    select 'cogs' as account
    union all
    select 'freight_cost' as account
),

pnl_by_account as (
    select
        closed_periods.period,
        accounts.account,
        coalesce(case accounts.account
            when 'net_revenue' then pnl.net_revenue
            when 'cogs' then pnl.cogs
            when 'freight_cost' then pnl.freight_cost
        end, 0) as pnl_amount
    from closed_periods
    cross join accounts
    left join pnl on closed_periods.period = pnl.period
),

compared as (
    select
        pnl_by_account.period,
        pnl_by_account.account,
        pnl_by_account.pnl_amount,
        ledger.amount as ledger_amount,
        pnl_by_account.pnl_amount - ledger.amount as difference
    from pnl_by_account
    left join {{ ref('stg_erp__gl_summary') }} as ledger
        on pnl_by_account.period = ledger.period
            and pnl_by_account.account = ledger.account
),

-- Relative to the ledger; a ledger of zero against a non-zero P&L is 100% off.
relative as (
    select
        compared.*,
        case
            when compared.ledger_amount is null then null
            when compared.ledger_amount <> 0
                then {{ as_float('compared.difference') }} / abs({{ as_float('compared.ledger_amount') }})
            when compared.difference <> 0 then 1.0
            else 0.0
        end as relative_difference
    from compared
)

select
    relative.period,
    relative.account,
    relative.pnl_amount,
    relative.ledger_amount,
    relative.difference,
    relative.relative_difference,
    {{ as_float(var('gl_tolerance')) }} as gl_tolerance,
    coalesce(abs(relative.relative_difference) <= {{ var('gl_tolerance') }}, false) as is_reconciled,
    {{ build_timestamp() }} as built_at
from relative
