-- One row per period of the P&L or of the pools: the P&L rows against the net-profit
-- identity (macros/pnl.sql) and the pool-cost split, and the pool cost they carry
-- against the period's pool amounts. The one home of these reconciliations, read by
-- the dbt test, the Great Expectations suite and the auditors' report.
-- Incremental: a build rebuilds its requested periods and every period of which the
-- P&L rebuilt rows (a monthly run rebuilds older invoice rows' carrying cost and bad
-- debt, so their identity is checked again).
{{ config(materialized='incremental', unique_key='period') }}
{%- set audited_periods -%}
    ({{ in_rebuilt_periods('period') }}
    {%- if is_incremental() %}
        or period in ({{ periods_built_since_last_build(ref('fct_invoice_line_pnl')) }})
    {%- endif %})
{%- endset %}

with

pnl as (
    select
        period,
        count(*) as row_count,
        sum(case when net_profit <> {{ net_profit() }} then 1 else 0 end) as identity_breaks,
        max(abs(net_profit - ({{ net_profit() }}))) as identity_worst_gap,
        min(case when net_profit <> {{ net_profit() }} then row_id end) as identity_example,
        sum(case when pool_cost_total <> pool_cost_variable + pool_cost_fixed then 1 else 0 end)
            as split_breaks,
        min(case when pool_cost_total <> pool_cost_variable + pool_cost_fixed then row_id end)
            as split_example,
        sum(pool_cost_total) as pnl_pool_cost
    from {{ ref('fct_invoice_line_pnl') }}
    where {{ audited_periods }}
    group by period
),

pools as (
    select
        period,
        count(*) as pools,
        sum(amount) as pools_amount
    from {{ ref('stg_erp__cost_pools') }}
    where {{ audited_periods }}
    group by period
),

reconciled as (
    select
        coalesce(pnl.period, pools.period) as period,
        coalesce(pnl.row_count, 0) as row_count,
        coalesce(pnl.identity_breaks, 0) as identity_breaks,
        pnl.identity_worst_gap,
        pnl.identity_example,
        coalesce(pnl.split_breaks, 0) as split_breaks,
        pnl.split_example,
        coalesce(pools.pools, 0) as pools,
        pools.pools_amount,
        coalesce(pnl.pnl_pool_cost, 0) as pnl_pool_cost,
        coalesce(pools.pools_amount, 0) - coalesce(pnl.pnl_pool_cost, 0) as pool_cost_off_by
    from pnl
    full outer join pools on pnl.period = pools.period
),

flagged as (
    select
        reconciled.*,
        abs(reconciled.pool_cost_off_by) < {{ half_cent() }} as carries_pool_costs
    from reconciled
)

select
    flagged.*,
    flagged.identity_breaks = 0
    and flagged.split_breaks = 0
    and flagged.carries_pool_costs as is_reconciled,
    {{ build_timestamp() }} as built_at
from flagged
