with

source as (
    select * from {{ source('erp', 'sales_activities') }}
),

renamed as (
    select
        -- ids
        activity_id,
        customer_id,
        rep_id,
        -- dates
        activity_date,
        {{ period_of('activity_date') }} as period,
        -- attributes
        kind,
        -- numerics
        minutes
    from source
)

select * from renamed
