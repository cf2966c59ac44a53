{#- The drivers of METHOD.md, "Cost pools and drivers"; pipelines/contract.py holds
    the same list for the loader, which quarantines a pool with any other driver. -#}
{% macro cost_drivers() -%}
    {{ return([
        'orders', 'manual_orders', 'expedited_orders', 'shipments', 'invoice_lines',
        'units', 'weight_kg', 'revenue', 'returns', 'return_units',
        'service_minutes', 'service_contacts', 'sales_minutes',
    ]) }}
{%- endmacro %}

{#- The cost-to-serve components that int_cost_drivers_to_components maps the drivers
    to: one `<component>_cost` column each in int_customer_cost_to_serve_by_period,
    customer_profitability and price_waterfall. -#}
{% macro cost_components() -%}
    {{ return(['order_handling', 'picking_and_shipping', 'returns', 'service', 'sales']) }}
{%- endmacro %}
