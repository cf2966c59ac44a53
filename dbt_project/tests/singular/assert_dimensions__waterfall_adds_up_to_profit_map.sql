{{ config(meta={'dagster': {'ref': {'name': 'price_waterfall'}}}) }}
-- The price waterfall of every as-of period, to the cent: each cell has profit_map's
-- customers and net profit, and none is missing or extra; the company row is the sum
-- of the cells; and the steps add up, net revenue and net profit being the last step
-- of theirs, in total and per customer. Rows returned are the failures.

-- Loops over the components confuse the layout linter's indentation rule here.
-- noqa: disable=LT02
{%- set cost_steps = waterfall_cost_steps() %}
{%- set steps = waterfall_steps() %}

with

waterfall as (
    select * from {{ ref('price_waterfall') }}
),

cells as (
    select * from waterfall
    where segment != 'company'
),

company as (
    select * from waterfall
    where segment = 'company'
),

cells_against_profit_map as (
    select
        'cell differs from profit_map' as failure,
        coalesce(cells.as_of_period, profit_map.as_of_period) as as_of_period,
        coalesce(cells.segment, profit_map.segment) as segment,
        coalesce(cells.quartile, profit_map.quartile) as quartile
    from cells
    full outer join {{ ref('profit_map') }} as profit_map
        on cells.as_of_period = profit_map.as_of_period
            and cells.segment = profit_map.segment
            and cells.quartile = profit_map.quartile
    where cells.as_of_period is null
        or profit_map.as_of_period is null
        or cells.customers != profit_map.customers
        or abs(cells.net_profit - profit_map.net_profit) >= {{ half_cent() }}
        or abs(cells.net_revenue - profit_map.revenue) >= {{ half_cent() }}
),

cell_totals as (
    select
        as_of_period,
        sum(customers) as customers,
        {%- for step in steps %}
        sum({{ step }}) as {{ step }}{{ ',' if not loop.last }}
        {%- endfor %}
    from cells
    group by as_of_period
),

company_against_cells as (
    select
        'company row is not the sum of the cells' as failure,
        coalesce(company.as_of_period, cell_totals.as_of_period) as as_of_period,
        'company' as segment,
        cast(null as integer) as quartile
    from company
    full outer join cell_totals on company.as_of_period = cell_totals.as_of_period
    where company.as_of_period is null
        or cell_totals.as_of_period is null
        or company.customers != cell_totals.customers
        {%- for step in steps %}
        or abs(company.{{ step }} - cell_totals.{{ step }}) >= {{ half_cent() }}
        {%- endfor %}
),

steps_not_adding_up as (
    select
        'steps do not add up' as failure,
        as_of_period,
        segment,
        quartile
    from waterfall
    where abs(net_revenue - (gross_revenue - discount - returns_credited)) >= {{ half_cent() }}
        or abs(net_profit - (
            net_revenue + other_revenue
            {%- for step in cost_steps %}
            - {{ step }}
            {%- endfor %}
        )) >= {{ half_cent() }}
        {%- for step in steps %}
        or abs({{ step }}_per_customer * customers - {{ step }}) >= {{ half_cent() }}
        {%- endfor %}
)

select * from cells_against_profit_map
union all
select * from company_against_cells
union all
select * from steps_not_adding_up
