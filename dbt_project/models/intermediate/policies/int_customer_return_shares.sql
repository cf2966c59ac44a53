-- One row per customer and as-of period: the units the customer bought and sent back
-- over the window, its number of returns, and the company's returned share of units
-- (METHOD.md, "Policies for the profit desert", return abuse). A heavy returner sends
-- back at least `return_abuse_ratio` times the company's share in at least
-- `return_abuse_min_returns` returns; whether it is an abuser is decided with its net
-- profit in int_customer_policies_decided: profit decides, not the return rate alone.
with

windows as (
    select
        as_of_period,
        period
    from {{ ref('int_as_of_period_months') }}
),

-- The P&L is added up once per customer and period, then each period is added to the
-- as-of periods whose window holds it: 10 million rows are read once, not 12 times.
customer_periods as (
    select
        customer_id,
        period,
        sum(case when row_kind = 'invoice' then quantity else 0 end) as units_sold,
        sum(case when row_kind = 'return' then -quantity else 0 end) as units_returned,
        sum(case when row_kind = 'return' then 1 else 0 end) as returns
    from {{ ref('fct_invoice_line_pnl') }}
    where customer_id is not null
    group by customer_id, period
),

customer_windows as (
    select
        customer_periods.customer_id,
        windows.as_of_period,
        sum(customer_periods.units_sold) as units_sold,
        sum(customer_periods.units_returned) as units_returned,
        sum(customer_periods.returns) as returns
    from customer_periods
    inner join windows on customer_periods.period = windows.period
    group by customer_periods.customer_id, windows.as_of_period
),

company as (
    select
        as_of_period,
        {{ safe_ratio('sum(units_returned)', 'sum(units_sold)') }} as company_returned_share
    from customer_windows
    group by as_of_period
)

select
    customer_windows.customer_id,
    customer_windows.as_of_period,
    {{ money('customer_windows.units_sold') }} as units_sold,
    {{ money('customer_windows.units_returned') }} as units_returned,
    cast(customer_windows.returns as integer) as return_count,
    {{ safe_ratio('customer_windows.units_returned', 'customer_windows.units_sold') }} as returned_share,
    company.company_returned_share,
    -- returned / sold >= ratio * company share, without dividing: a customer that only
    -- returned (nothing sold in the window) is past any ratio.
    coalesce(
        customer_windows.units_returned > 0
        and {{ as_float('customer_windows.units_returned') }}
        >= {{ var('return_abuse_ratio') }} * company.company_returned_share
        * {{ as_float('customer_windows.units_sold') }}
        and customer_windows.returns >= {{ var('return_abuse_min_returns') }},
        false
    ) as is_heavy_returner
from customer_windows
inner join company on customer_windows.as_of_period = company.as_of_period
