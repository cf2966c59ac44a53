-- The profit map of the latest as-of period: customers, revenue and net profit of
-- each segment and quartile, and the cell's share of the company's net profit.
select
    segment,
    quartile,
    customers,
    revenue,
    net_profit,
    profit_per_customer,
    share_of_profit
from marts.profit_map
where as_of_period = (select max(as_of_period) from marts.profit_map)
order by
    case segment when 'profit_peak' then 1 when 'profit_drain' then 2 else 3 end,
    quartile;
