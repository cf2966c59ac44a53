with

source as (
    select * from {{ source('erp', 'invoice_lines') }}
),

renamed as (
    select
        -- ids
        invoice_id,
        line_number,
        sku,
        warehouse_id,
        -- attributes
        discount_code,
        backordered,
        -- numerics
        quantity,
        unit_list_price,
        unit_price,
        unit_cost
    from source
)

select * from renamed
