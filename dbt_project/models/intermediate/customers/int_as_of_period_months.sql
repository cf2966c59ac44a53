-- One row per as-of period and closed period of its window: the `window_months`
-- calendar months that end at the as-of period (METHOD.md, "Periods and the as-of
-- period"). Every windowed rollup joins its per-period facts to this.
with

closed_periods as (
    select
        period,
        period_index
    from {{ ref('int_periods_closed') }}
)

select
    as_of.period as as_of_period,
    as_of.period_index as as_of_index,
    in_window.period,
    in_window.period_index
from closed_periods as as_of
inner join closed_periods as in_window
    on {{ in_as_of_window('in_window.period_index', 'as_of.period_index') }}
