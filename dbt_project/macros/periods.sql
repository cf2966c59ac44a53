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

{#- The as-of window (METHOD.md, "Periods and the as-of period"): the `window_months`
    calendar months that end at the as-of period, the one home of its bounds.
    int_as_of_period_months joins by it; so does every rollup and test that needs the
    window of an index it already has. -#}
{% macro window_start_index(as_of_index_expression) -%}
    {{ as_of_index_expression }} - {{ var('window_months') }} + 1
{%- endmacro %}

{% macro in_as_of_window(period_index_expression, as_of_index_expression) -%}
    {{ period_index_expression }}
    between {{ window_start_index(as_of_index_expression) }} and {{ as_of_index_expression }}
{%- endmacro %}

{#- The last as-of index whose window still holds the period of this index. -#}
{% macro last_as_of_index_holding(period_index_expression) -%}
    {{ period_index_expression }} + {{ var('window_months') }} - 1
{%- endmacro %}
