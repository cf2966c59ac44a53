-- One row per closed period and cost pool: the ERP's amount against its shares in the
-- audit trail (allocated to P&L rows + unallocated + unused capacity). The one home of
-- pool conservation (METHOD.md: every pool to the cent), read by the dbt test, the
-- Great Expectations suite and the auditors' report. A pool that is only in the audit
-- trail, or only in the ERP, is not conserved either.
-- Incremental: a build rebuilds its requested periods (older periods' pools and shares
-- do not change; a monthly run changes their carrying cost and bad debt only).
{{ config(materialized='incremental', unique_key=['period', 'pool']) }}

with

pools as (
    select
        period,
        pool,
        driver,
        amount
    from {{ ref('stg_erp__cost_pools') }}
    where {{ in_rebuilt_periods('period') }}
),

-- The audit trail names its unallocated and unused-capacity rows by their row_id.
shares_by_kind as (
    select
        period,
        pool,
        amount,
        case
            when row_id like 'unallocated:%' then 'unallocated'
            when row_id like 'unused_capacity:%' then 'unused_capacity'
            else 'allocated'
        end as share_kind
    from {{ ref('fct_cost_allocations') }}
    where {{ in_rebuilt_periods('period') }}
),

shares as (
    select
        period,
        pool,
        sum(case when share_kind = 'allocated' then amount else 0 end) as allocated,
        sum(case when share_kind = 'unallocated' then amount else 0 end) as unallocated,
        sum(case when share_kind = 'unused_capacity' then amount else 0 end) as unused_capacity,
        sum(case when amount < 0 then 1 else 0 end) as negative_shares,
        sum(case when amount < 0 then amount else 0 end) as negative_total
    from shares_by_kind
    group by period, pool
),

reconciled as (
    select
        coalesce(pools.period, shares.period) as period,
        coalesce(pools.pool, shares.pool) as pool,
        pools.driver,
        pools.amount,
        coalesce(shares.allocated, 0) as allocated,
        coalesce(shares.unallocated, 0) as unallocated,
        coalesce(shares.unused_capacity, 0) as unused_capacity,
        coalesce(shares.negative_shares, 0) as negative_shares,
        coalesce(shares.negative_total, 0) as negative_total
    from pools
    full outer join shares
        on pools.period = shares.period
            and pools.pool = shares.pool
),

balanced as (
    select
        reconciled.*,
        reconciled.allocated + reconciled.unallocated + reconciled.unused_capacity as shared
    from reconciled
)

select
    balanced.period,
    balanced.pool,
    balanced.driver,
    balanced.amount,
    balanced.allocated,
    balanced.unallocated,
    balanced.unused_capacity,
    balanced.shared,
    coalesce(balanced.amount, 0) - balanced.shared as off_by,
    balanced.negative_shares,
    balanced.negative_total,
    balanced.amount is not null
    and abs(balanced.amount - balanced.shared) < {{ half_cent() }} as is_conserved,
    {{ build_timestamp() }} as built_at
from balanced
