{{ config(meta={'dagster': {'ref': {'name': 'return_dispositions'}}}) }}
-- For every as-of period, the return dispositions' returns and returned units add up
-- to the return rows of the P&L in its window: every returned SKU has a disposition.
with

as_of_periods as (
    select
        as_of_period,
        as_of_index
    from {{ ref('int_as_of_periods') }}
),

-- Return rows per period first, so the window join runs over periods, not rows.
returns_by_period as (
    select
        period,
        count(*) as returns,
        sum(-quantity) as units_returned
    from {{ ref('fct_invoice_line_pnl') }}
    where row_kind = 'return'
    group by period
),

pnl as (
    select
        as_of_periods.as_of_period,
        sum(returns_by_period.returns) as returns,
        sum(returns_by_period.units_returned) as units_returned
    from returns_by_period
    inner join as_of_periods
        on
            {{ in_as_of_window(period_index('returns_by_period.period'), 'as_of_periods.as_of_index') }}
    group by as_of_periods.as_of_period
),

dispositions as (
    select
        as_of_period,
        sum(returns) as returns,
        sum(units_returned) as units_returned
    from {{ ref('return_dispositions') }}
    group by as_of_period
)

select
    pnl.as_of_period,
    pnl.returns,
    dispositions.returns as disposition_returns,
    pnl.units_returned,
    dispositions.units_returned as disposition_units_returned
from pnl
full outer join dispositions on pnl.as_of_period = dispositions.as_of_period
where pnl.as_of_period is null
    or dispositions.as_of_period is null
    or pnl.returns <> dispositions.returns
    or pnl.units_returned <> dispositions.units_returned
