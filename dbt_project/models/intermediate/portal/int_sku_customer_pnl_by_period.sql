-- Loops over the drivers confuse the layout linter's indentation rule here.
-- noqa: disable=LT02
-- One row per product (sku), customer and closed period: the SKU's invoice and return
-- rows of the P&L added up, with what the desert portal needs besides the P&L: the
-- backordered lines (stg_erp__invoice_lines.backordered), the restocked returned units
-- (returns.disposition = 'restock') and the return pools' shares on the return rows.
-- A return pool is a pool whose driver the seed cost_drivers maps to the
-- `returns` component; a share is rate * driver units (METHOD.md), as in
-- fct_cost_allocations. Incremental: a build redoes the periods in which the P&L
-- changed since its last build (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='period') }}
{%- set drivers = cost_drivers() %}

with

product_rows as (
    select * from {{ ref('int_pnl_rows_with_driver_units') }}
    where sku is not null
    {%- if is_incremental() %}
        and period in ({{ periods_built_since_last_build(ref('int_pnl_rows_with_driver_units')) }})
    {%- endif %}
),

pnl_rows as (
    select
        row_id,
        net_profit,
        pool_cost_total
    from {{ ref('fct_invoice_line_pnl') }}
    where sku is not null
),

-- Per period, the rate of every driver of a return pool (0 for other drivers).
return_rates as (
    select
        pools.period,
        {%- for driver in drivers %}
        sum(case when pools.driver = '{{ driver }}' then pools.rate else 0 end) as rate_{{ driver }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('int_pool_rates_computed') }} as pools
    inner join {{ ref('cost_drivers') }} as components
        on pools.driver = components.driver
    where components.cost_component = 'returns'
        and pools.rate is not null
    group by pools.period
),

rows_described as (
    select
        product_rows.sku,
        product_rows.customer_id,
        product_rows.period,
        product_rows.row_kind,
        product_rows.quantity,
        product_rows.cogs,
        product_rows.freight_cost,
        pnl_rows.net_profit,
        pnl_rows.pool_cost_total,
        coalesce(lines.backordered, false) as is_backordered,
        returns.disposition,
        {% for driver in drivers -%}
        product_rows.units_{{ driver }} * coalesce(return_rates.rate_{{ driver }}, 0)
        {{- ' +' if not loop.last }}
        {% endfor -%}
        as return_pool_cost
    from product_rows
    inner join pnl_rows on product_rows.row_id = pnl_rows.row_id
    left join return_rates on product_rows.period = return_rates.period
    left join {{ ref('stg_erp__invoice_lines') }} as lines
        on product_rows.row_kind = 'invoice'
            and product_rows.invoice_id = lines.invoice_id
            and product_rows.line_number = lines.line_number
    left join {{ ref('stg_erp__returns') }} as returns
        on product_rows.row_kind = 'return'
            and product_rows.return_id = returns.return_id
)

select
    sku,
    customer_id,
    period,
    {{ period_index('period') }} as period_index,
    sum(case when row_kind = 'invoice' then quantity else 0 end) as units_sold,
    sum(case when row_kind = 'invoice' then 1 else 0 end) as line_count,
    sum(case when row_kind = 'invoice' and is_backordered then 1 else 0 end) as backordered_line_count,
    sum(case when row_kind = 'invoice' and is_backordered then quantity else 0 end) as backordered_units,
    sum(case when row_kind = 'invoice' then cogs else 0 end) as cogs_sold,
    sum(case when row_kind = 'invoice' then freight_cost else 0 end) as freight_cost,
    -- return rows carry the returned quantity as a negative number
    sum(case when row_kind = 'return' then 1 else 0 end) as return_count,
    sum(case when row_kind = 'return' then -quantity else 0 end) as units_returned,
    sum(case when row_kind = 'return' and disposition = 'restock' then -quantity else 0 end) as units_restocked,
    sum(case when row_kind = 'return' then return_pool_cost else 0 end) as return_pool_cost,
    sum(pool_cost_total) as pool_cost_total,
    sum(net_profit) as net_profit,
    {{ build_timestamp() }} as built_at
from rows_described
group by sku, customer_id, period
