-- The bottom desert quartile of the latest as-of period, by name: the customers that
-- METHOD.md's desert policies restrict first, worst net profit first.
select
    segments.customer_id,
    customers.customer_name,
    customers.industry,
    customers.region,
    customers.sales_rep_id,
    segments.revenue,
    segments.net_profit
from marts.customer_segments as segments
inner join marts.dim_customers as customers
    on segments.customer_id = customers.customer_id
where segments.as_of_period = (select max(as_of_period) from marts.customer_segments)
    and segments.segment = 'profit_desert'
    and segments.quartile = 4
order by segments.net_profit asc, segments.customer_id asc;
