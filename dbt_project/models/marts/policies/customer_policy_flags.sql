-- One row per customer and as-of period: the policy flags of METHOD.md, "Policies for
-- the profit desert", with a reason for each (the feed that pricing, commerce and
-- sales systems read; pipelines/policy_feed.py publishes the latest as-of period).
-- The rules live in int_customer_policies_decided; the reasons, one sentence per flag,
-- in int_customer_policy_reasons.
with

customers as (
    select * from {{ ref('int_customer_policies_decided') }}
),

reasons as (
    select
        customer_id,
        as_of_period,
        {{ dbt.listagg('reason', "'; '", 'order by reason_order') }} as reasons
    from {{ ref('int_customer_policy_reasons') }}
    group by customer_id, as_of_period
)

select
    -- ids
    customers.customer_id,
    customers.as_of_period,
    -- segment
    customers.segment,
    customers.quartile,
    -- terms
    customers.no_discounts,
    customers.min_order_value,
    customers.charge_freight,
    customers.charge_expedite,
    customers.restocking_fee_pct,
    customers.extra_order_cycle_days,
    -- flags
    customers.is_growth_prospect,
    customers.is_lifetime_exempt,
    customers.is_cross_sell_candidate,
    customers.is_value_destroyer,
    customers.is_service_abuser,
    customers.is_return_abuser,
    customers.recommended_action,
    reasons.reasons,
    customers.exemption,
    -- the numbers behind them
    customers.revenue,
    customers.gross_margin,
    customers.cost_to_serve,
    customers.net_profit,
    customers.contribution,
    customers.pool_cost_fixed,
    customers.revenue_growth,
    customers.share_of_wallet,
    customers.last_peak_as_of_period,
    customers.busiest_service_day,
    customers.contacts_on_busiest_day,
    customers.return_count,
    customers.returned_share
from customers
inner join reasons
    on customers.customer_id = reasons.customer_id
        and customers.as_of_period = reasons.as_of_period
