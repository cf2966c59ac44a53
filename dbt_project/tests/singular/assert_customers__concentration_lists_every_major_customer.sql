{{ config(meta={'dagster': {'ref': {'name': 'major_customers'}}}) }}
-- customer_concentration counts as many major customers per as-of period as
-- major_customers lists, and every listed one is above the threshold.
with

listed as (
    select
        as_of_period,
        count(*) as major_customers,
        min(revenue_share) as smallest_share
    from {{ ref('major_customers') }}
    group by as_of_period
)

select
    concentration.as_of_period,
    concentration.major_customers,
    coalesce(listed.major_customers, 0) as listed_major_customers,
    listed.smallest_share
from {{ ref('customer_concentration') }} as concentration
left join listed on concentration.as_of_period = listed.as_of_period
where concentration.major_customers <> coalesce(listed.major_customers, 0)
    or listed.smallest_share <= {{ var('major_customer_revenue_share') }}
