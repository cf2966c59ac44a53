-- Loops over the drivers confuse the layout linter's indentation rule here.
-- noqa: disable=LT02
-- One row per customer and closed period: its activity (orders, manual and expedited
-- orders, units sold and returned, service and sales minutes, list value and
-- discount) and its pool costs by cost-to-serve component. A pool share is rate *
-- driver units (METHOD.md), so a customer's share of a pool in a period is the pool's
-- rate times the customer's driver units summed over its rows: the P&L's 10 million
-- rows are added up once per customer and period instead of once per pool.
-- Incremental: a build redoes the periods in which the P&L rows changed since its
-- last build (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='period') }}
{%- set drivers = cost_drivers() %}
{%- set components = cost_components() %}

with

customer_rows as (
    select * from {{ ref('int_pnl_rows_with_driver_units') }}
    {%- if is_incremental() %}
    where period in ({{ periods_built_since_last_build(ref('int_pnl_rows_with_driver_units')) }})
    {%- endif %}
),

driver_units as (
    select
        customer_id,
        period,
        -- Orders are counted in whole numbers: an order's units are split equally over
        -- its lines (1/3 + 1/3 + 1/3), a double whose last bits depend on the order of
        -- the sum, and the buyer profiles rank customers by these counts. All lines of
        -- an invoice belong to one customer and period, so the sum is a whole number up
        -- to a rounding error far below 0.5 (about 1e-8 for a customer's 10,000 lines of
        -- a month), and rounding it gives the exact count.
        -- Counting distinct invoices instead costs ~16 s more at 10M lines (measured:
        -- 19.1 s against 2.6 s for the three counts).
        round(sum(units_orders)) as order_count,
        round(sum(units_manual_orders)) as manual_order_count,
        round(sum(units_expedited_orders)) as expedited_order_count,
        sum(case when row_kind = 'invoice' then gross_revenue else 0 end) as gross_revenue,
        sum(case when row_kind = 'invoice' then discount else 0 end) as discount,
        sum(case when row_kind = 'invoice' then quantity else 0 end) as units_sold,
        sum(case when row_kind = 'return' then -quantity else 0 end) as units_returned,
        {%- for driver in drivers %}
        sum(units_{{ driver }}) as units_{{ driver }}{{ ',' if not loop.last }}
        {%- endfor %}
    from customer_rows
    group by customer_id, period
),

-- Per period, the rate of every driver within every component (0 when the driver
-- belongs to another component): a component's cost is then one sum of products.
component_rates as (
    select
        pools.period,
        {%- for component in components %}
        {%- set outer_loop = loop %}
        {%- for driver in drivers %}
        sum(
            case when components.cost_component = '{{ component }}' and pools.driver = '{{ driver }}' then pools.rate else 0 end
        ) as rate_{{ component }}_{{ driver }}{{ ',' if not (loop.last and outer_loop.last) }}
        {%- endfor %}
        {%- endfor %}
    from {{ ref('int_pool_rates_computed') }} as pools
    inner join {{ ref('cost_drivers') }} as components
        on pools.driver = components.driver
    where pools.rate is not null
    group by pools.period
)

select
    -- ids
    driver_units.customer_id,
    driver_units.period,
    -- activity: exact counts and sums, as customers are ranked by them; the customer's
    -- service and sales units on its rows are shares of these (doubles), which add up
    -- to them only up to rounding. Stored as doubles, the type these columns always had,
    -- so that warehouses built before keep their schema (on_schema_change: fail): a
    -- whole number, or one decimal sum, is the same double in every build.
    {{ as_float('driver_units.order_count') }} as orders,
    {{ as_float('driver_units.manual_order_count') }} as manual_orders,
    {{ as_float('driver_units.expedited_order_count') }} as expedited_orders,
    driver_units.units_invoice_lines as invoice_lines,
    driver_units.units_sold,
    driver_units.units_returned,
    driver_units.units_returns as returns,
    {{ as_float('coalesce(activity.service_minutes, 0)') }} as service_minutes,
    {{ as_float('coalesce(activity.service_contacts, 0)') }} as service_contacts,
    {{ as_float('coalesce(activity.sales_minutes, 0)') }} as sales_minutes,
    driver_units.gross_revenue,
    driver_units.discount,
    -- pool costs by component
    {%- for component in components %}
    {% for driver in drivers -%}
    driver_units.units_{{ driver }} * coalesce(component_rates.rate_{{ component }}_{{ driver }}, 0)
    {{- ' +' if not loop.last }}
    {% endfor -%}
    as {{ component }}_cost,
    {%- endfor %}
    {{ build_timestamp() }} as built_at
from driver_units
left join component_rates on driver_units.period = component_rates.period
left join {{ ref('int_customer_activity_by_period') }} as activity
    on driver_units.customer_id = activity.customer_id
        and driver_units.period = activity.period
