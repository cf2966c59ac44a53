with

source as (
    select * from {{ source('erp', 'gl_summary') }}
),

renamed as (
    select
        -- attributes
        period,
        account,
        -- numerics
        amount
    from source
)

select * from renamed
