{#- Post-hook of every model (dbt_project.yml). PostgreSQL plans each query from its
    tables' statistics, which a table created a moment ago does not have until
    autovacuum gets to it: without them it took upsell_recommendations' 650 thousand
    aggregated customer x SKU rows for 47 and ran the model for over 10 minutes on the
    demo, against 20 s once analysed. DuckDB keeps its statistics as it writes. -#}
{% macro analyze_table() -%}
    {{ return(adapter.dispatch('analyze_table', 'oasis')()) }}
{%- endmacro %}

{% macro default__analyze_table() -%}
{%- endmacro %}

{% macro postgres__analyze_table() -%}
    {%- if config.get('materialized') != 'view' -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
