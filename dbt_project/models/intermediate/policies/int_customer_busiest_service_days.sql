-- One row per customer and as-of period with service contacts in the window: the day
-- of the window with the most contacts (the earliest of equals), how many, and on how
-- many days the customer reached `service_abuse_contacts_per_day` (METHOD.md,
-- "Policies for the profit desert": a service abuser made at least that many contacts
-- on any one day of the window).
with

windows as (
    select
        as_of_period,
        period
    from {{ ref('int_as_of_period_months') }}
),

-- A contact's day is the date of its timestamp, as its period is the month of it.
contact_days as (
    select
        customer_id,
        period,
        cast(contact_ts as date) as contact_day,
        count(*) as contacts
    from {{ ref('stg_erp__service_contacts') }}
    group by customer_id, period, cast(contact_ts as date)
),

days_in_windows as (
    select
        contact_days.customer_id,
        windows.as_of_period,
        contact_days.contact_day,
        contact_days.contacts,
        row_number() over (
            partition by contact_days.customer_id, windows.as_of_period
            order by contact_days.contacts desc, contact_days.contact_day asc
        ) as day_rank,
        sum(case when contact_days.contacts >= {{ var('service_abuse_contacts_per_day') }} then 1 else 0 end)
            over (partition by contact_days.customer_id, windows.as_of_period) as abuse_days
    from contact_days
    inner join windows on contact_days.period = windows.period
)

select
    customer_id,
    as_of_period,
    contact_day as busiest_service_day,
    cast(contacts as integer) as contacts_on_busiest_day,
    cast(abuse_days as integer) as service_abuse_days,
    abuse_days > 0 as is_service_abuser
from days_in_windows
where day_rank = 1
