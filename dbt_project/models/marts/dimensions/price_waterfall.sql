-- One row per as-of period, segment and quartile, and one per as-of period for the
-- company (segment 'company', quartile null): the steps from list price to net profit
-- of each cell of the profit map, in total and per customer. Every step is an amount
-- as the P&L books it (costs and deductions positive):
--   net_revenue = gross_revenue - discount - returns_credited
--   net_profit  = net_revenue + other_revenue - cogs - freight_cost
--                 - the pool costs by component - carrying_cost - bad_debt
-- Incremental: a build redoes the as-of periods that customer_profitability rebuilt
-- since its last build; a cell's segments come from the same as-of period's rows.
-- Loops over the steps confuse the layout linter's indentation rule here.
-- noqa: disable=LT02
{{ config(materialized='incremental', unique_key='as_of_period') }}
{%- set steps = waterfall_steps() %}

with

customers as (
    select
        profitability.as_of_period,
        segments.segment,
        segments.quartile,
        profitability.gross_revenue,
        profitability.discount,
        -- Returns book their credit as net revenue with no discount (METHOD.md): what
        -- the invoice lines' list value less discount lost to them.
        profitability.gross_revenue - profitability.discount - profitability.revenue as returns_credited,
        profitability.revenue as net_revenue,
        profitability.other_revenue,
        profitability.cogs,
        profitability.freight_cost,
        {%- for component in cost_components() %}
        profitability.{{ component }}_cost,
        {%- endfor %}
        profitability.carrying_cost,
        profitability.bad_debt,
        profitability.net_profit
    from {{ ref('customer_profitability') }} as profitability
    inner join {{ ref('customer_segments') }} as segments
        on profitability.customer_id = segments.customer_id
            and profitability.as_of_period = segments.as_of_period
    {%- if is_incremental() %}
    where profitability.as_of_period in (
        select distinct rebuilt.as_of_period
        from {{ ref('customer_profitability') }} as rebuilt
        where {{ built_since_last_build('rebuilt') }}
    )
    {%- endif %}
),

cells as (
    select
        as_of_period,
        segment,
        quartile,
        count(*) as customers,
        {%- for step in steps %}
        sum({{ step }}) as {{ step }}{{ ',' if not loop.last }}
        {%- endfor %}
    from customers
    group by as_of_period, segment, quartile
),

company as (
    select
        as_of_period,
        'company' as segment,
        cast(null as integer) as quartile,
        sum(customers) as customers,
        {%- for step in steps %}
        sum({{ step }}) as {{ step }}{{ ',' if not loop.last }}
        {%- endfor %}
    from cells
    group by as_of_period
),

waterfall as (
    select * from cells
    union all
    select * from company
)

select
    as_of_period,
    segment,
    quartile,
    cast(customers as integer) as customers,
    {%- for step in steps %}
    {{ money(step) }} as {{ step }},
    {%- endfor %}
    {%- for step in steps %}
    {{ money(step ~ ' / customers') }} as {{ step }}_per_customer,
    {%- endfor %}
    {{ build_timestamp() }} as built_at
from waterfall
