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

{#- How far the two sides of an identity between a model's own columns may differ (net
    profit = gross margin - cost to serve; contribution = net profit + the fixed pool
    costs): each column is money of 9 decimals, and 10^-5 allows for a last-digit
    rounding of each of their terms while staying 1,000 times below a cent. Reconciliations
    against the P&L, the pools or the ledger are to the cent (half_cent). -#}
{% macro rounding_slack() -%}
    0.00001
{%- endmacro %}
