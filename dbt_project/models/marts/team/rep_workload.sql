-- One row per as-of period, sales rep and segment of the rep's book (METHOD.md, "The
-- desert team and new accounts"): the book as in rep_profitability (int_rep_books:
-- customers whose sales_rep_id is the rep; rep_id null for house accounts), the sales
-- minutes spent on the segment's customers over the window (all their sales
-- activities) and the net profit per sales hour. The desert accounts to move to a dedicated desert team are
-- the rep's profit-desert customers with sales minutes in the window (visited or
-- called); minutes_freed are their minutes. Other segments move none.
with

workload as (
    select
        as_of_period,
        rep_id,
        segment,
        count(*) as customers,
        sum(sales_minutes) as sales_minutes,
        sum(net_profit) as net_profit,
        sum(case when segment = 'profit_desert' and sales_minutes > 0 then 1 else 0 end) as desert_accounts_to_move,
        sum(case when segment = 'profit_desert' then sales_minutes else 0 end) as minutes_freed
    from {{ ref('int_rep_books') }}
    group by as_of_period, rep_id, segment
)

select
    as_of_period,
    rep_id,
    segment,
    cast(customers as integer) as customers,
    {{ as_float('sales_minutes') }} as sales_minutes,
    {{ money('net_profit') }} as net_profit,
    {{ safe_ratio('net_profit', 'sales_minutes / 60.0') }} as net_profit_per_sales_hour,
    cast(desert_accounts_to_move as integer) as desert_accounts_to_move,
    {{ as_float('minutes_freed') }} as minutes_freed
from workload
