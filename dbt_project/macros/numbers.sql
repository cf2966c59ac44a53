{#- Money in the marts: 9 decimal places, so that the shares of a pool spread over
    10 million rows still add up to the pool to the cent (rounding error at most
    10^7 * 5 * 10^-10 = 0.005). Allocation arithmetic runs in double precision. -#}
{% macro money(expression) -%}
    cast({{ expression }} as decimal(38, 9))
{%- endmacro %}

{#- dbt.type_float() is single precision on DuckDB: allocation needs double. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'oasis')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}

{% macro as_float(expression) -%}
    cast({{ expression }} as {{ type_double() }})
{%- endmacro %}

{#- A double rounded to 9 decimals, to rank or compare it: a sum of doubles differs in its
    last bits with the order DuckDB's threads add it up in, and ties broken by 1e-13 moved
    146 buyer-profile scores of the default demo between two builds of one extract. -#}
{% macro stable_double(expression) -%}
    {{ as_float('cast(' ~ expression ~ ' as decimal(38, 9))') }}
{%- endmacro %}

{#- numerator / denominator, or the fallback when the denominator is zero. -#}
{% macro safe_ratio(numerator, denominator, fallback='null') -%}
    case when {{ denominator }} = 0 then {{ fallback }}
        else {{ as_float(numerator) }} / {{ as_float(denominator) }} end
{%- endmacro %}

{% macro percentile_cont(expression, fraction) -%}
    {{ return(adapter.dispatch('percentile_cont', 'oasis')(expression, fraction)) }}
{%- endmacro %}

{% macro default__percentile_cont(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro spark__percentile_cont(expression, fraction) -%}
    percentile({{ expression }}, {{ fraction }})
{%- endmacro %}

{#- A figure as text with `places` decimals, for the reasons texts of the portal marts
    (portable: PostgreSQL has no printf). -#}
{% macro decimal_text(expression, places) -%}
    cast(cast({{ expression }} as decimal(38, {{ places }})) as {{ dbt.type_string() }})
{%- endmacro %}

{#- An amount of money as text, to the cent. -#}
{% macro money_text(expression) -%}
    {{ decimal_text(expression, 2) }}
{%- endmacro %}
