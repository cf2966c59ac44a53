{{ config(meta={'dagster': {'ref': {'name': 'customer_segments'}}}) }}
-- Within a segment, quartile sizes differ by at most one customer.
with

quartile_sizes as (
    select
        as_of_period,
        segment,
        quartile,
        count(*) as customers
    from {{ ref('customer_segments') }}
    group by as_of_period, segment, quartile
)

select
    as_of_period,
    segment,
    max(customers) - min(customers) as spread
from quartile_sizes
group by as_of_period, segment
having max(customers) - min(customers) > 1
