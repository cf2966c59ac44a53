with

source as (
    select * from {{ source('erp', 'invoices') }}
),

renamed as (
    select
        -- ids
        invoice_id,
        customer_id,
        sales_rep_id,
        -- dates
        order_date,
        invoice_date,
        {{ period_of('invoice_date') }} as period,
        -- attributes
        order_channel,
        ship_method,
        currency,
        -- numerics
        freight_charged,
        expedite_charged,
        payment_terms_days
    from source
)

select * from renamed
