{#- The drivers of METHOD.md, "Cost pools and drivers"; pipelines/contract.py holds
    the same list for the loader, which quarantines a pool with any other driver. -#}
{% macro cost_drivers() -%}
    {{ return([
        'orders', 'manual_orders', 'expedited_orders', 'shipments', 'invoice_lines',
        'units', 'weight_kg', 'revenue', 'returns', 'return_units',
        'service_minutes', 'service_contacts', 'sales_minutes',
    ]) }}
{%- endmacro %}
