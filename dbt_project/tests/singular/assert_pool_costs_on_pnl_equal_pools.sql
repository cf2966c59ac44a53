{{ config(meta={'dagster': {'ref': {'name': 'fct_invoice_line_pnl'}}}) }}
-- The wide P&L carries the same pool cost per period as the pools themselves:
-- pool_cost_total over all rows of a period equals the period's pool amounts.
-- A monthly run checks the periods it rebuilt (older rows changed only their carrying
-- cost and bad debt); the audit after every run checks every period.
with

pools as (
    select
        period,
        sum(amount) as amount
    from {{ ref('stg_erp__cost_pools') }}
    where period in (select closed.period from {{ ref('int_periods_closed') }} as closed)
        and {{ in_requested_periods('period') }}
    group by period
),

pnl as (
    select
        period,
        sum(pool_cost_total) as pool_cost_total
    from {{ ref('fct_invoice_line_pnl') }}
    where {{ in_requested_periods('period') }}
    group by period
)

select
    pools.period,
    pools.amount,
    pnl.pool_cost_total
from pools
left join pnl on pools.period = pnl.period
where abs(pools.amount - coalesce(pnl.pool_cost_total, 0)) >= 0.005
