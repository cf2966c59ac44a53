{{ config(meta={'dagster': {'ref': {'name': 'acquisition_profiles'}}}) }}
-- The acquisition profiles of an as-of period hold every customer of
-- customer_segments once: their customers add up to the segmented customers.
with

profiles as (
    select
        as_of_period,
        sum(customers) as customers
    from {{ ref('acquisition_profiles') }}
    group by as_of_period
),

segmented as (
    select
        as_of_period,
        count(*) as customers
    from {{ ref('customer_segments') }}
    group by as_of_period
)

select
    coalesce(profiles.as_of_period, segmented.as_of_period) as as_of_period,
    profiles.customers as profiled_customers,
    segmented.customers as segmented_customers
from profiles
full outer join segmented on profiles.as_of_period = segmented.as_of_period
where profiles.customers is distinct from segmented.customers
