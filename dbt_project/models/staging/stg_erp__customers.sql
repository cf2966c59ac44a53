with

source as (
    select * from {{ source('erp', 'customers') }}
),

renamed as (
    select
        -- ids
        customer_id,
        sales_rep_id,
        -- dates
        created_date,
        -- attributes
        customer_name,
        industry,
        region,
        acquisition_channel,
        -- numerics
        employee_count,
        est_annual_spend
    from source
)

select * from renamed
