with

source as (
    select * from {{ source('erp', 'returns') }}
),

renamed as (
    select
        -- ids
        return_id,
        invoice_id,
        line_number,
        -- dates
        return_date,
        {{ period_of('return_date') }} as period,
        -- attributes
        reason_code,
        disposition,
        -- numerics
        quantity,
        credit_amount,
        restocking_fee_charged
    from source
)

select * from renamed
