with

source as (
    select * from {{ source('erp', 'payments') }}
),

renamed as (
    select
        -- ids
        payment_id,
        invoice_id,
        -- dates
        payment_date,
        {{ period_of('payment_date') }} as period,
        -- attributes
        kind,
        -- numerics
        amount
    from source
)

select * from renamed
