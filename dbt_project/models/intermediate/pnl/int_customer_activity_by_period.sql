-- One row per customer and closed period with service contacts or sales activities:
-- the customer-level driver units that are spread over its invoice rows.
with

service as (
    select
        customer_id,
        period,
        sum(minutes) as service_minutes,
        count(*) as service_contacts,
        0 as sales_minutes
    from {{ ref('stg_erp__service_contacts') }}
    group by customer_id, period
),

sales as (
    select
        customer_id,
        period,
        0 as service_minutes,
        0 as service_contacts,
        sum(minutes) as sales_minutes
    from {{ ref('stg_erp__sales_activities') }}
    group by customer_id, period
),

activity as (
    select * from service
    union all
    select * from sales
)

select
    activity.customer_id,
    activity.period,
    sum(activity.service_minutes) as service_minutes,
    sum(activity.service_contacts) as service_contacts,
    sum(activity.sales_minutes) as sales_minutes
from activity
inner join {{ ref('int_periods_closed') }} as closed_periods
    on activity.period = closed_periods.period
group by activity.customer_id, activity.period
