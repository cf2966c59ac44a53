with

source as (
    select * from {{ source('erp', 'service_contacts') }}
),

renamed as (
    select
        -- ids
        contact_id,
        customer_id,
        -- dates
        contact_ts,
        {{ period_of('contact_ts') }} as period,
        -- attributes
        channel,
        reason_code,
        -- numerics
        minutes
    from source
)

select * from renamed
