with

source as (
    select * from {{ source('erp', 'cost_pools') }}
),

renamed as (
    select
        -- attributes
        period,
        pool,
        driver,
        -- numerics
        amount,
        variable_share,
        capacity_units
    from source
)

select * from renamed
