{#- The steps of price_waterfall from list price to net profit, in its column order, and
    their one home (the model and its singular test read them): the revenue steps, the
    cost steps (waterfall_cost_steps) and net profit. -#}
{% macro waterfall_steps() -%}
    {{ return(['gross_revenue', 'discount', 'returns_credited', 'net_revenue', 'other_revenue']
        + waterfall_cost_steps() + ['net_profit']) }}
{%- endmacro %}

{#- The costs net profit is net revenue and other revenue less: COGS, freight, the pool
    costs by cost-to-serve component (macros/drivers.sql), carrying cost and bad debt. -#}
{% macro waterfall_cost_steps() -%}
    {%- set steps = ['cogs', 'freight_cost'] -%}
    {%- for component in cost_components() -%}
        {%- do steps.append(component ~ '_cost') -%}
    {%- endfor -%}
    {{ return(steps + ['carrying_cost', 'bad_debt']) }}
{%- endmacro %}
