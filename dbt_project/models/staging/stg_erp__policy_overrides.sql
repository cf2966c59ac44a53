with

source as (
    select * from {{ source('erp', 'policy_overrides') }}
),

renamed as (
    select
        -- ids
        override_id,
        invoice_id,
        rep_id,
        -- dates
        override_date,
        {{ period_of('override_date') }} as period,
        -- attributes
        policy,
        reason
    from source
)

select * from renamed
