{{ config(meta={'dagster': {'ref': {'name': 'rep_overrides'}}}) }}
-- Every policy override dated in a closed period of the window is counted once per
-- as-of period: in `overrides`, or apart in `overrides_on_exempt`.
with

as_of_periods as (
    select
        period as as_of_period,
        period_index as as_of_index
    from {{ ref('int_periods_closed') }}
),

overrides_by_period as (
    select
        overrides.period,
        count(*) as overrides
    from {{ ref('stg_erp__policy_overrides') }} as overrides
    inner join {{ ref('int_periods_closed') }} as closed on overrides.period = closed.period
    group by overrides.period
),

expected as (
    select
        as_of_periods.as_of_period,
        sum(overrides_by_period.overrides) as overrides
    from overrides_by_period
    inner join as_of_periods
        on
            {{ in_as_of_window(period_index('overrides_by_period.period'), 'as_of_periods.as_of_index') }}
    group by as_of_periods.as_of_period
),

counted as (
    select
        as_of_period,
        sum(overrides + overrides_on_exempt) as overrides
    from {{ ref('rep_overrides') }}
    group by as_of_period
)

select
    expected.as_of_period,
    expected.overrides,
    counted.overrides as counted_overrides
from expected
left join counted on expected.as_of_period = counted.as_of_period
where counted.overrides is null or counted.overrides <> expected.overrides
