-- Loops over the drivers confuse the layout linter's indentation rule here.
-- noqa: disable=LT02
-- The invoice-line P&L: one row per document row (METHOD.md). Every cost of the
-- period lands on some row, so these rows add up to the ledger and the pools.
-- Incremental: a build rebuilds the document rows its parent rebuilt since its last
-- build, and the pool rows of its periods (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='row_id') }}
{%- set drivers = cost_drivers() %}
{%- set money_components = [
    'gross_revenue', 'discount', 'net_revenue', 'freight_revenue', 'expedite_revenue',
    'restocking_fee_revenue', 'cogs', 'freight_cost', 'pool_cost_total',
    'pool_cost_variable', 'carrying_cost', 'bad_debt'] %}

with

document_rows as (
    select
        rows.row_id,
        rows.row_kind,
        rows.period,
        rows.customer_id,
        rows.invoice_id,
        rows.line_number,
        rows.return_id,
        rows.sku,
        cast(null as {{ dbt.type_string() }}) as pool,
        rows.quantity,
        rows.gross_revenue,
        rows.discount,
        rows.net_revenue,
        rows.freight_revenue,
        rows.expedite_revenue,
        rows.restocking_fee_revenue,
        rows.cogs,
        rows.freight_cost,
        {%- for kind in ['rate', 'variable_rate'] %}
        {% for driver in drivers -%}
        rows.units_{{ driver }} * coalesce(rates.{{ kind }}_{{ driver }}, 0)
        {{- ' +' if not loop.last }}
        {% endfor -%}
        as pool_cost_{{ 'total' if kind == 'rate' else 'variable' }},
        {%- endfor %}
        rows.carrying_cost,
        rows.bad_debt
    from {{ ref('int_pnl_rows_with_driver_units') }} as rows
    left join {{ ref('int_driver_rates_by_period') }} as rates on rows.period = rates.period
    {%- if is_incremental() %}
    where {{ built_since_last_build('rows') }}
    {%- endif %}
),

-- Pools nobody consumed, and capacity nobody used, are rows of their own.
pool_rows as (
    {%- for row_kind, amount_column in [('unallocated', 'unallocated_amount'), ('unused_capacity', 'unused_capacity_amount')] %}
    select
        {{ dbt.concat(["'" ~ row_kind ~ ":'", "period", "':'", "pool"]) }} as row_id,
        '{{ row_kind }}' as row_kind,
        period,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ dbt.type_string() }}) as invoice_id,
        cast(null as integer) as line_number,
        cast(null as {{ dbt.type_string() }}) as return_id,
        cast(null as {{ dbt.type_string() }}) as sku,
        pool,
        {{ no_line_amounts() }},
        {{ amount_column }} as pool_cost_total,
        {{ amount_column }} * variable_share as pool_cost_variable,
        0 as carrying_cost,
        0 as bad_debt
    from {{ ref('int_pool_rates_computed') }}
    where {{ amount_column }} <> 0
        and {{ in_rebuilt_periods('period') }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

all_rows as (
    select * from document_rows
    union all
    select * from pool_rows
),

-- Components are rounded to money first and net profit is computed from the
-- rounded components, so the identity holds exactly on every row.
in_money as (
    select
        row_id,
        row_kind,
        period,
        customer_id,
        invoice_id,
        cast(line_number as integer) as line_number,
        return_id,
        sku,
        pool,
        {{ money('quantity') }} as quantity,
        {%- for component in money_components %}
        {{ money(component) }} as {{ component }}{{ ',' if not loop.last }}
        {%- endfor %}
    from all_rows
)

select
    row_id,
    row_kind,
    period,
    customer_id,
    invoice_id,
    line_number,
    return_id,
    sku,
    pool,
    quantity,
    gross_revenue,
    discount,
    net_revenue,
    freight_revenue,
    expedite_revenue,
    restocking_fee_revenue,
    cogs,
    freight_cost,
    pool_cost_total,
    pool_cost_variable,
    {{ money('pool_cost_total - pool_cost_variable') }} as pool_cost_fixed,
    carrying_cost,
    bad_debt,
    {{ money(net_profit()) }} as net_profit,
    {{ build_timestamp() }} as built_at
from in_money
