-- Which reps carry the desert in the latest as-of period: their desert accounts, the
-- sales minutes those take and the net profit they earn per sales hour, most minutes
-- first.
select
    workload.rep_id,
    workload.customers as desert_customers,
    workload.sales_minutes,
    workload.net_profit,
    workload.net_profit_per_sales_hour,
    workload.desert_accounts_to_move,
    workload.minutes_freed
from marts.rep_workload as workload
where workload.as_of_period = (select max(as_of_period) from marts.rep_workload)
    and workload.segment = 'profit_desert'
order by workload.sales_minutes desc, workload.rep_id asc;
