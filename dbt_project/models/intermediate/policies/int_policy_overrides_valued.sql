-- One row per policy override (CONTRACT.md, policy_overrides): the customer of its
-- invoice and the profit the rep gave away, that is what the lifted policy would have
-- collected (METHOD.md, "Rep overrides"):
--   no_discounts     the invoice's discount
--   charge_freight   the invoice's freight cost: freight charged at cost, the least the
--                    policy would have billed
--   charge_expedite  the average expediting fee charged on the period's invoices that
--                    paid one (of all periods when none did)
--   restocking_fee   restocking_fee_pct of the credit of the invoice's returns of the
--                    override's day that carry no fee, split over that day's overrides
--   min_order_value  nothing: the policy refuses small orders, it collects no money
with

overrides as (
    select
        override_id,
        invoice_id,
        rep_id,
        policy,
        override_date,
        period
    from {{ ref('stg_erp__policy_overrides') }}
),

invoices as (
    select
        invoice_id,
        customer_id,
        period,
        expedite_charged
    from {{ ref('stg_erp__invoices') }}
),

-- Only the overridden invoices' lines are read from the P&L.
invoice_pnl as (
    select
        invoice_id,
        sum(discount) as discount,
        sum(freight_cost) as freight_cost
    from {{ ref('fct_invoice_line_pnl') }}
    where row_kind = 'invoice'
        and invoice_id in (select overrides.invoice_id from overrides)
    group by invoice_id
),

expedite_fees_by_period as (
    select
        period,
        avg(expedite_charged) as expedite_fee
    from invoices
    where expedite_charged > 0
    group by period
),

expedite_fee_overall as (
    select avg(expedite_charged) as expedite_fee
    from invoices
    where expedite_charged > 0
),

returns_without_fee as (
    select
        invoice_id,
        return_date,
        sum(credit_amount) as credit_amount
    from {{ ref('stg_erp__returns') }}
    where restocking_fee_charged = 0
    group by invoice_id, return_date
),

restocking_overrides_by_day as (
    select
        invoice_id,
        override_date,
        count(*) as overrides
    from overrides
    where policy = 'restocking_fee'
    group by invoice_id, override_date
)

select
    overrides.override_id,
    overrides.invoice_id,
    overrides.rep_id,
    invoices.customer_id,
    overrides.policy,
    overrides.override_date,
    overrides.period,
    {{ money(
        "case overrides.policy"
        ~ " when 'no_discounts' then coalesce(invoice_pnl.discount, 0)"
        ~ " when 'charge_freight' then coalesce(invoice_pnl.freight_cost, 0)"
        ~ " when 'charge_expedite' then coalesce(expedite_fees_by_period.expedite_fee, expedite_fee_overall.expedite_fee, 0)"
        ~ " when 'restocking_fee' then " ~ var('restocking_fee_pct')
        ~ " * coalesce(returns_without_fee.credit_amount, 0) / restocking_overrides_by_day.overrides"
        ~ " else 0 end"
    ) }} as profit_given_away
from overrides
inner join invoices on overrides.invoice_id = invoices.invoice_id
left join invoice_pnl on overrides.invoice_id = invoice_pnl.invoice_id
left join expedite_fees_by_period on overrides.period = expedite_fees_by_period.period
cross join expedite_fee_overall
left join returns_without_fee
    on overrides.policy = 'restocking_fee'
        and overrides.invoice_id = returns_without_fee.invoice_id
        and overrides.override_date = returns_without_fee.return_date
left join restocking_overrides_by_day
    on overrides.policy = 'restocking_fee'
        and overrides.invoice_id = restocking_overrides_by_day.invoice_id
        and overrides.override_date = restocking_overrides_by_day.override_date
