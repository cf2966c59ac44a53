{#- Per as-of period, the model's column sums add up to the P&L rows (fct_invoice_line_pnl)
    of its window that match `pnl_rows`, to the cent (an integer count must be equal):
    `sums` maps each column of the model to the expression of a P&L row it adds up
    (1 to count rows). A period on one side only fails too. The P&L is summed per period
    first, so the window join runs over periods (24 in the demo), not rows. -#}
{% test adds_up_to_pnl_in_window(model, sums, pnl_rows='customer_id is not null') %}

with

pnl_by_period as (
    select
        period,
        {%- for column, expression in sums.items() %}
        sum({{ expression }}) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('fct_invoice_line_pnl') }}
    where {{ pnl_rows }}
    group by period
),

pnl as (
    select
        as_of_periods.as_of_period,
        {%- for column in sums %}
        sum(pnl_by_period.{{ column }}) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from pnl_by_period
    inner join {{ ref('int_as_of_periods') }} as as_of_periods
        on
            {{ in_as_of_window(period_index('pnl_by_period.period'), 'as_of_periods.as_of_index') }}
    group by as_of_periods.as_of_period
),

model_sums as (
    select
        as_of_period,
        {%- for column in sums %}
        sum({{ column }}) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}
    group by as_of_period
)

select
    coalesce(pnl.as_of_period, model_sums.as_of_period) as as_of_period,
    {%- for column in sums %}
    pnl.{{ column }} as pnl_{{ column }},
    model_sums.{{ column }} as model_{{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
from pnl
full outer join model_sums on pnl.as_of_period = model_sums.as_of_period
where pnl.as_of_period is null
    or model_sums.as_of_period is null
    {%- for column in sums %}
    or abs(pnl.{{ column }} - model_sums.{{ column }}) >= {{ half_cent() }}
    {%- endfor %}

{% endtest %}
