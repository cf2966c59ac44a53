-- One row per customer and as-of period: what the customer would earn at the average
-- net margin of its segment, and how far it is from that (margin_lift = revenue *
-- segment_net_margin - net_profit). Ranked within the as-of period, largest lift
-- first, so the biggest opportunities head the list; a negative lift means the
-- customer already earns more than its segment's average margin.
with

segments as (
    select * from {{ ref('customer_segments') }}
),

segment_margins as (
    select
        as_of_period,
        segment,
        {{ safe_ratio('sum(net_profit)', 'sum(revenue)') }} as segment_net_margin
    from segments
    group by as_of_period, segment
),

lifts as (
    select
        segments.customer_id,
        segments.as_of_period,
        segments.segment,
        segments.quartile,
        segments.revenue,
        segments.net_profit,
        segments.net_margin,
        segment_margins.segment_net_margin,
        segments.revenue * segment_margins.segment_net_margin - segments.net_profit as margin_lift
    from segments
    inner join segment_margins
        on segments.as_of_period = segment_margins.as_of_period
            and segments.segment = segment_margins.segment
)

select
    customer_id,
    as_of_period,
    segment,
    quartile,
    revenue,
    net_profit,
    net_margin,
    segment_net_margin,
    {{ money('margin_lift') }} as margin_lift,
    cast(row_number() over (
        partition by as_of_period
        -- ranked by the lift in money, as shown: customers equal to the cent are ordered by id,
        -- not by a double's last bits
        order by case when margin_lift is null then 1 else 0 end, {{ money('margin_lift') }} desc, customer_id asc
    ) as integer) as margin_lift_rank
from lifts
