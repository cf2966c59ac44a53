-- One row per as-of period: every closed period, with the window of `window_months`
-- calendar months that ends there (METHOD.md, "Periods and the as-of period") and
-- how many of its months are closed. The first as-of periods of a history have
-- windows shorter than window_months: is_full_window says which.
with

windows as (
    select
        as_of_period,
        as_of_index,
        {{ window_start_index('as_of_index') }} as window_start_index,
        min(period) as first_period_in_window,
        count(*) as closed_months_in_window
    from {{ ref('int_as_of_period_months') }}
    group by as_of_period, as_of_index
)

select
    as_of_period,
    as_of_index,
    window_start_index,
    first_period_in_window,
    cast(closed_months_in_window as integer) as closed_months_in_window,
    closed_months_in_window = {{ var('window_months') }} as is_full_window
from windows
