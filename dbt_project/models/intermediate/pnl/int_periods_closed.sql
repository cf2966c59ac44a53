-- A period is closed when it has cost pools (METHOD.md, "Periods"); the latest
-- closed period is the as-of period of the P&L.
with

pool_periods as (
    select distinct period from {{ ref('stg_erp__cost_pools') }}
),

indexed as (
    select
        period,
        {{ period_index('period') }} as period_index,
        {{ period_first_day('period') }} as period_start,
        {{ period_last_day('period') }} as period_end
    from pool_periods
)

select
    indexed.*,
    max(indexed.period_end) over () as as_of_date
from indexed
