-- One row per customer and as-of period: its segment and quartile with their history.
-- A customer's stay in a segment is an unbroken run of consecutive as-of periods in
-- that segment; a month out of scope or in another segment ends it. segment_since is
-- the first as-of period of the current stay.
with

segments as (
    select
        segments.customer_id,
        segments.as_of_period,
        as_of_periods.as_of_index,
        segments.segment,
        segments.quartile
    from {{ ref('customer_segments') }} as segments
    inner join {{ ref('int_as_of_periods') }} as as_of_periods
        on segments.as_of_period = as_of_periods.as_of_period
),

-- as_of_index minus the customer's count of periods in the segment so far is the
-- same number along a run of consecutive months and jumps when a run breaks.
runs as (
    select
        *,
        as_of_index - row_number() over (
            partition by customer_id, segment order by as_of_index
        ) as run_key,
        lag(as_of_index) over (partition by customer_id order by as_of_index) as previous_index,
        lag(segment) over (partition by customer_id order by as_of_index) as previous_segment_in_scope,
        lag(quartile) over (partition by customer_id order by as_of_index) as previous_quartile_in_scope,
        min(as_of_period) over (partition by customer_id) as first_as_of_period,
        max(case when segment = 'profit_peak' then as_of_period end) over (
            partition by customer_id order by as_of_index rows between unbounded preceding and current row
        ) as last_profit_peak_period
    from segments
),

stays as (
    select
        *,
        min(as_of_period) over (partition by customer_id, segment, run_key) as segment_since,
        row_number() over (partition by customer_id, segment, run_key order by as_of_index) as months_in_segment
    from runs
)

select
    stays.customer_id,
    stays.as_of_period,
    stays.segment,
    stays.quartile,
    stays.segment_since,
    cast(stays.months_in_segment as integer) as months_in_segment,
    -- the previous as-of period (null: the customer was out of scope then)
    case when stays.previous_index = stays.as_of_index - 1 then stays.previous_segment_in_scope end
        as previous_segment,
    case when stays.previous_index = stays.as_of_index - 1 then stays.previous_quartile_in_scope end
        as previous_quartile,
    -- `migration_months` earlier (null: out of scope then, or before the history)
    earlier.segment as earlier_segment,
    earlier.quartile as earlier_quartile,
    stays.first_as_of_period,
    stays.last_profit_peak_period
from stays
left join segments as earlier
    on stays.customer_id = earlier.customer_id
        and earlier.as_of_index = stays.as_of_index - {{ var('migration_months') }}
