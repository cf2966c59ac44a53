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

{#- The line amounts of a P&L row that is no document line (a customer's unattached row,
    a pool's unallocated or unused-capacity row): all zero, in the P&L's column order. -#}
{% macro no_line_amounts() -%}
    0 as quantity,
    0 as gross_revenue,
    0 as discount,
    0 as net_revenue,
    0 as freight_revenue,
    0 as expedite_revenue,
    0 as restocking_fee_revenue,
    0 as cogs,
    0 as freight_cost
{%- endmacro %}

{#- How far two sums of the same rounded money may differ: each term was rounded once to
    9 decimals (at most 5 * 10^-10 off), and 10^-5 leaves room for 20,000 terms, more than
    a customer's rows in a window. For identities between columns a model adds up
    separately (net profit = gross margin - cost to serve), not for reconciliations:
    those are to the cent (half_cent). -#}
{% macro rounding_slack() -%}
    0.00001
{%- endmacro %}
