{{ config(meta={'dagster': {'ref': {'name': 'segment_migration'}}}) }}
-- For every as-of period of the migration table, the moves hold every customer in
-- scope now (all but 'lost') and every customer in scope earlier (all but 'new'),
-- with their net profit now and then.
with

segment_totals as (
    select
        as_of_period,
        count(*) as customers,
        sum(net_profit) as net_profit
    from {{ ref('customer_segments') }}
    group by as_of_period
),

migration_totals as (
    select
        as_of_period,
        earlier_as_of_period,
        sum(case when to_segment <> 'lost' then customers else 0 end) as customers_now,
        sum(case when from_segment <> 'new' then customers else 0 end) as customers_before,
        sum(net_profit_now) as net_profit_now,
        sum(net_profit_before) as net_profit_before
    from {{ ref('segment_migration') }}
    group by as_of_period, earlier_as_of_period
)

select
    migration_totals.*,
    now_totals.customers as segment_customers_now,
    earlier_totals.customers as segment_customers_before
from migration_totals
left join segment_totals as now_totals on migration_totals.as_of_period = now_totals.as_of_period
left join segment_totals as earlier_totals on migration_totals.earlier_as_of_period = earlier_totals.as_of_period
where now_totals.as_of_period is null
    or earlier_totals.as_of_period is null
    or migration_totals.customers_now <> now_totals.customers
    or migration_totals.customers_before <> earlier_totals.customers
    or abs(migration_totals.net_profit_now - now_totals.net_profit) >= {{ half_cent() }}
    or abs(migration_totals.net_profit_before - earlier_totals.net_profit) >= {{ half_cent() }}
