{#- Net profit of a P&L row from its components (METHOD.md, "The P&L"): the one home
    of the identity, used where fct_invoice_line_pnl computes it and where
    audit_pnl_identity checks the stored rows against it. -#}
{% macro net_profit(relation_alias=none) -%}
    {%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
    {{ prefix }}net_revenue + {{ prefix }}freight_revenue + {{ prefix }}expedite_revenue
    + {{ prefix }}restocking_fee_revenue - {{ prefix }}cogs - {{ prefix }}freight_cost
    - {{ prefix }}pool_cost_total - {{ prefix }}carrying_cost - {{ prefix }}bad_debt
{%- endmacro %}

{#- A difference of half a cent or more rounds to a visible cent (what would show as
    0.01 on a statement): METHOD.md wants pools conserved to the cent. -#}
{% macro half_cent() -%}
    0.005
{%- endmacro %}
