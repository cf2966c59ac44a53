{{ config(meta={'dagster': {'ref': {'name': 'fct_cost_allocations'}}}) }}
-- Every pool of every closed period leaves on some row: its shares in the audit
-- trail (allocated + unallocated + unused capacity) add up to its amount to the cent.
-- A monthly run checks the periods it rebuilt (older rows changed only their carrying
-- cost and bad debt); the audit after every run checks every period.
with

pools as (
    select
        period,
        pool,
        amount
    from {{ ref('stg_erp__cost_pools') }}
    where period in (select closed.period from {{ ref('int_periods_closed') }} as closed)
        and {{ in_requested_periods('period') }}
),

shares as (
    select
        period,
        pool,
        sum(amount) as shared
    from {{ ref('fct_cost_allocations') }}
    where {{ in_requested_periods('period') }}
    group by period, pool
)

select
    pools.period,
    pools.pool,
    pools.amount,
    coalesce(shares.shared, 0) as shared
from pools
left join shares on pools.period = shares.period and pools.pool = shares.pool
where abs(pools.amount - coalesce(shares.shared, 0)) >= 0.005
