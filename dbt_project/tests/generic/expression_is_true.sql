{#- Rows where the expression is false fail the test. -#}
{% test expression_is_true(model, expression, where_clause='1 = 1') %}
select *
from {{ model }}
where {{ where_clause }} and not ({{ expression }})
{% endtest %}
