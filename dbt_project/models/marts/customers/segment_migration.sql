-- One row per as-of period and move: from each customer's segment and quartile
-- `migration_months` (default 12) as-of periods earlier to its segment and quartile
-- now, with the customers that made the move and the revenue and profit they carried.
-- Customers not in scope earlier come from 'new'; customers in scope earlier but not
-- now go to 'lost'. Only as-of periods whose earlier as-of period is closed have rows.
with

as_of_pairs as (
    select
        now_periods.as_of_period,
        earlier_periods.as_of_period as earlier_as_of_period,
        now_periods.is_full_window and earlier_periods.is_full_window as is_full_window
    from {{ ref('int_as_of_periods') }} as now_periods
    inner join {{ ref('int_as_of_periods') }} as earlier_periods
        on earlier_periods.as_of_index = now_periods.as_of_index - {{ var('migration_months') }}
),

segments_now as (
    select
        as_of_pairs.as_of_period,
        segments.customer_id,
        segments.segment,
        segments.quartile,
        segments.revenue,
        segments.net_profit
    from as_of_pairs
    inner join {{ ref('customer_segments') }} as segments
        on as_of_pairs.as_of_period = segments.as_of_period
),

segments_earlier as (
    select
        as_of_pairs.as_of_period,
        segments.customer_id,
        segments.segment,
        segments.quartile,
        segments.revenue,
        segments.net_profit
    from as_of_pairs
    inner join {{ ref('customer_segments') }} as segments
        on as_of_pairs.earlier_as_of_period = segments.as_of_period
),

moves as (
    select
        coalesce(segments_now.as_of_period, segments_earlier.as_of_period) as as_of_period,
        coalesce(segments_earlier.segment, 'new') as from_segment,
        segments_earlier.quartile as from_quartile,
        coalesce(segments_now.segment, 'lost') as to_segment,
        segments_now.quartile as to_quartile,
        coalesce(segments_earlier.revenue, 0) as revenue_before,
        coalesce(segments_now.revenue, 0) as revenue_now,
        coalesce(segments_earlier.net_profit, 0) as net_profit_before,
        coalesce(segments_now.net_profit, 0) as net_profit_now
    from segments_now
    full outer join segments_earlier
        on segments_now.as_of_period = segments_earlier.as_of_period
            and segments_now.customer_id = segments_earlier.customer_id
),

transitions as (
    select
        as_of_period,
        from_segment,
        from_quartile,
        to_segment,
        to_quartile,
        count(*) as customers,
        sum(revenue_before) as revenue_before,
        sum(revenue_now) as revenue_now,
        sum(net_profit_before) as net_profit_before,
        sum(net_profit_now) as net_profit_now
    from moves
    group by as_of_period, from_segment, from_quartile, to_segment, to_quartile
)

select
    transitions.as_of_period,
    as_of_pairs.earlier_as_of_period,
    transitions.from_segment,
    transitions.from_quartile,
    transitions.to_segment,
    transitions.to_quartile,
    cast(transitions.customers as integer) as customers,
    {{ money('transitions.revenue_before') }} as revenue_before,
    {{ money('transitions.revenue_now') }} as revenue_now,
    {{ money('transitions.net_profit_before') }} as net_profit_before,
    {{ money('transitions.net_profit_now') }} as net_profit_now,
    {{ money('transitions.net_profit_now - transitions.net_profit_before') }} as net_profit_change,
    as_of_pairs.is_full_window
from transitions
inner join as_of_pairs on transitions.as_of_period = as_of_pairs.as_of_period
