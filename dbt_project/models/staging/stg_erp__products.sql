with

source as (
    select * from {{ source('erp', 'products') }}
),

renamed as (
    select
        -- ids
        sku,
        -- attributes
        product_name,
        product_family,
        brand,
        category,
        -- numerics
        unit_weight_kg,
        list_price,
        standard_cost
    from source
)

select * from renamed
