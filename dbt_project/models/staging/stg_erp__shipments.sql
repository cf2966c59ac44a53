with

source as (
    select * from {{ source('erp', 'shipments') }}
),

renamed as (
    select
        -- ids
        shipment_id,
        invoice_id,
        -- dates
        ship_date,
        {{ period_of('ship_date') }} as period,
        -- attributes
        carrier,
        -- numerics
        weight_kg,
        freight_cost
    from source
)

select * from renamed
