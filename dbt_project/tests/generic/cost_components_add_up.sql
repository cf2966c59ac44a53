{#- Rows whose cost-to-serve components (one `<component>_cost` column per component of
    the seed cost_drivers, macros/drivers.sql) do not add up, to the cent, to
    pool_cost_total, nor with freight, carrying cost and bad debt to cost_to_serve
    (METHOD.md, "Customers: rollup and segments": each cost component). -#}
{% test cost_components_add_up(model) %}
{%- set pool_components -%}
    {%- for component in cost_components() %}{{ component }}_cost{{ ' + ' if not loop.last }}{% endfor -%}
{%- endset %}
select *
from {{ model }}
where abs(pool_cost_total - ({{ pool_components }})) >= {{ half_cent() }}
    or abs(cost_to_serve - (freight_cost + {{ pool_components }} + carrying_cost + bad_debt)) >= {{ half_cent() }}
{% endtest %}
