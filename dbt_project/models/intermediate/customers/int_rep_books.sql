-- One row per as-of period and customer in scope: the rep whose book the customer is in
-- (customers.sales_rep_id of the latest extract; null for house accounts, the customers
-- without a rep), its segment and the figures of customer_profitability that the rep
-- marts add up. rep_profitability and rep_workload both read it, so the reps' books
-- are the same customers in both.

select
    profitability.as_of_period,
    profitability.customer_id,
    owners.sales_rep_id as rep_id,
    segments.segment,
    profitability.revenue,
    profitability.gross_margin,
    profitability.cost_to_serve,
    profitability.sales_cost,
    profitability.net_profit,
    profitability.sales_minutes
from {{ ref('customer_profitability') }} as profitability
inner join {{ ref('customer_segments') }} as segments
    on profitability.customer_id = segments.customer_id
        and profitability.as_of_period = segments.as_of_period
left join {{ ref('stg_erp__customers') }} as owners
    on profitability.customer_id = owners.customer_id
