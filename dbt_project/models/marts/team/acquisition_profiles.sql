-- One row per as-of period, acquisition channel and industry (METHOD.md, "The desert
-- team and new accounts"): the customers in scope with that profile in the customers
-- extract, the share of them that are profit peaks, the share in the top desert
-- quartile (quartile 1 of profit_desert), and their net profit per customer, so
-- prospecting copies the profile of the best accounts. A null channel or industry
-- (not in the extract) is a profile of its own.
with

profiled as (
    select
        segments.as_of_period,
        customers.acquisition_channel,
        customers.industry,
        segments.segment,
        segments.quartile,
        segments.net_profit
    from {{ ref('customer_segments') }} as segments
    left join {{ ref('stg_erp__customers') }} as customers
        on segments.customer_id = customers.customer_id
),

profiles as (
    select
        as_of_period,
        acquisition_channel,
        industry,
        count(*) as customers,
        sum(case when segment = 'profit_peak' then 1 else 0 end) as peaks,
        sum(case when segment = 'profit_desert' and quartile = 1 then 1 else 0 end) as top_deserts,
        sum(net_profit) as net_profit
    from profiled
    group by as_of_period, acquisition_channel, industry
)

select
    as_of_period,
    acquisition_channel,
    industry,
    cast(customers as integer) as customers,
    {{ safe_ratio('peaks', 'customers') }} as peak_share,
    {{ safe_ratio('top_deserts', 'customers') }} as top_desert_share,
    {{ money('net_profit') }} as net_profit,
    {{ money(safe_ratio('net_profit', 'customers')) }} as net_profit_per_customer
from profiles
