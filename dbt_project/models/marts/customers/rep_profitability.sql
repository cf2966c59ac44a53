-- Loops over the segments confuse the layout linter's indentation rule here.
-- noqa: disable=LT02
-- One row per sales rep and as-of period: the P&L of the rep's book (int_rep_books: the
-- customers it owns, customers.sales_rep_id of the latest extract) over the window, and
-- how the book's customers, revenue, cost to serve and net profit split over the
-- segments.
-- rep_id is null for house accounts, the customers without a rep, so the reps of an
-- as-of period add up to all customers in scope.
{%- set segments = ['profit_peak', 'profit_drain', 'profit_desert'] %}

with

reps as (
    select
        rep_id,
        as_of_period,
        count(*) as customers,
        sum(revenue) as revenue,
        sum(gross_margin) as gross_margin,
        sum(cost_to_serve) as cost_to_serve,
        sum(sales_cost) as sales_cost,
        sum(net_profit) as net_profit,
        {%- for segment in segments %}
        sum(case when segment = '{{ segment }}' then 1 else 0 end) as {{ segment }}_customers,
        sum(case when segment = '{{ segment }}' then revenue else 0 end) as {{ segment }}_revenue,
        sum(case when segment = '{{ segment }}' then cost_to_serve else 0 end) as {{ segment }}_cost_to_serve,
        sum(case when segment = '{{ segment }}' then net_profit else 0 end) as {{ segment }}_net_profit
        {{- ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('int_rep_books') }}
    group by rep_id, as_of_period
)

select
    rep_id,
    as_of_period,
    cast(customers as integer) as customers,
    {{ money('revenue') }} as revenue,
    {{ money('gross_margin') }} as gross_margin,
    {{ money('cost_to_serve') }} as cost_to_serve,
    {{ money('net_profit') }} as net_profit,
    {{ safe_ratio('net_profit', 'revenue') }} as net_margin,
    {{ money('sales_cost') }} as sales_cost,
    {%- for segment in segments %}
    cast({{ segment }}_customers as integer) as {{ segment }}_customers,
    {{ money(segment ~ '_revenue') }} as {{ segment }}_revenue,
    {{ money(segment ~ '_cost_to_serve') }} as {{ segment }}_cost_to_serve,
    {{ money(segment ~ '_net_profit') }} as {{ segment }}_net_profit{{ ',' if not loop.last }}
    {%- endfor %}
from reps
