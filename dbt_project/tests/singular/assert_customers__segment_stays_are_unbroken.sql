{{ config(meta={'dagster': {'ref': {'name': 'customer_segment_history'}}}) }}
-- A customer's stay in its segment is unbroken: from segment_since to the as-of
-- period it was in scope and in the same segment every month, and months_in_segment
-- counts those months.
with

history as (
    select
        customer_id,
        as_of_period,
        segment,
        segment_since,
        months_in_segment,
        {{ period_index('as_of_period') }} - {{ period_index('segment_since') }} + 1 as months_since
    from {{ ref('customer_segment_history') }}
),

months_in_stay as (
    select
        history.customer_id,
        history.as_of_period,
        count(*) as months_in_same_segment
    from history
    inner join {{ ref('customer_segments') }} as segments
        on history.customer_id = segments.customer_id
            and history.segment = segments.segment
            and segments.as_of_period between history.segment_since and history.as_of_period
    group by history.customer_id, history.as_of_period
)

select
    history.customer_id,
    history.as_of_period,
    history.segment_since,
    history.months_in_segment,
    history.months_since,
    months_in_stay.months_in_same_segment
from history
left join months_in_stay
    on history.customer_id = months_in_stay.customer_id
        and history.as_of_period = months_in_stay.as_of_period
where history.months_in_segment <> history.months_since
    or months_in_stay.months_in_same_segment is null
    or months_in_stay.months_in_same_segment <> history.months_since
