-- One row per SKU of the extract: every column of CONTRACT.md's `products`, so that a
-- BI tool names a SKU without reading the raw tables.
with

products as (
    select * from {{ ref('stg_erp__products') }}
)

select
    -- ids
    cast(sku as {{ dbt.type_string() }}) as sku,
    -- attributes
    cast(product_name as {{ dbt.type_string() }}) as product_name,
    cast(product_family as {{ dbt.type_string() }}) as product_family,
    cast(brand as {{ dbt.type_string() }}) as brand,
    cast(category as {{ dbt.type_string() }}) as category,
    -- numerics
    {{ money('unit_weight_kg') }} as unit_weight_kg,
    {{ money('list_price') }} as list_price,
    {{ money('standard_cost') }} as standard_cost
from products
