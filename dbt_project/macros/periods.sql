{#- Periods are calendar months written 'YYYY-MM' (CONTRACT.md). -#}

{% macro period_of(date_expression) -%}
    {{ return(adapter.dispatch('period_of', 'oasis')(date_expression)) }}
{%- endmacro %}

{% macro default__period_of(date_expression) -%}
    to_char({{ date_expression }}, 'YYYY-MM')
{%- endmacro %}

{% macro duckdb__period_of(date_expression) -%}
    strftime({{ date_expression }}, '%Y-%m')
{%- endmacro %}

{% macro spark__period_of(date_expression) -%}
    date_format({{ date_expression }}, 'yyyy-MM')
{%- endmacro %}

{#- Months since year 0: consecutive periods differ by one, so windows are ranges. -#}
{% macro period_index(period_expression) -%}
    (cast(substring({{ period_expression }}, 1, 4) as integer) * 12
        + cast(substring({{ period_expression }}, 6, 2) as integer))
{%- endmacro %}

{% macro period_first_day(period_expression) -%}
    cast({{ dbt.concat([period_expression, "'-01'"]) }} as date)
{%- endmacro %}

{% macro period_last_day(period_expression) -%}
    cast({{ dbt.last_day(period_first_day(period_expression), 'month') }} as date)
{%- endmacro %}
