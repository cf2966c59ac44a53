-- One row per customer and as-of period: the policies of METHOD.md, "Policies for the
-- profit desert", decided from the customer's segment, quartile and numbers over the
-- window. customer_policy_flags publishes these with their reasons.
--
-- Terms. The bottom desert quartile (4) gets no discounts, a minimum order value,
-- freight and expediting charged, a restocking fee and a longer order cycle; the
-- middle desert quartiles (2, 3) get expediting charged. A growth prospect or a
-- lifetime-exempt customer (a profit peak in an earlier yearly window) keeps its terms:
-- `exemption` says which exemption applied, and is null when no restriction was waived.
--
-- Recommended action, the first that applies:
--   develop              growth prospect
--   keep                 exempt from desert restrictions (a lifetime peak in a lean year)
--   move_to_self_service service abuser
--   let_go               value destroyer whose contribution is negative: it does not even
--                        cover its variable costs, so letting it go raises profit
--   charge_for_service   return abuser, or bottom desert quartile
--   reprice              other value destroyers (they cover their variable costs only)
--   cross_sell           middle desert quartiles
--   keep                 everyone else
with

as_of_periods as (
    select
        as_of_period,
        closed_months_in_window
    from {{ ref('int_as_of_periods') }}
),

customers as (
    select
        profitability.customer_id,
        profitability.as_of_period,
        as_of_periods.closed_months_in_window as window_months_closed,
        segments.segment,
        segments.quartile,
        profitability.revenue,
        profitability.other_revenue,
        profitability.cogs,
        profitability.gross_margin,
        profitability.freight_cost,
        profitability.pool_cost_total,
        profitability.pool_cost_variable,
        profitability.carrying_cost,
        profitability.bad_debt,
        profitability.cost_to_serve,
        profitability.net_profit,
        profitability.invoice_count,
        profitability.average_order_value,
        -- METHOD.md, "What-if let go": what the company loses with the customer. The
        -- fixed pool shares stay with the company.
        profitability.revenue + profitability.other_revenue - profitability.cogs
        - profitability.freight_cost - profitability.pool_cost_variable
        - profitability.carrying_cost - profitability.bad_debt as contribution,
        profitability.pool_cost_total - profitability.pool_cost_variable as pool_cost_fixed,
        growth.revenue_growth,
        growth.share_of_wallet,
        growth.est_annual_spend,
        growth.is_growing_fast,
        growth.has_small_share_of_wallet,
        growth.is_growth_prospect,
        lifetime.is_lifetime_exempt,
        lifetime.last_peak_as_of_period,
        service.busiest_service_day,
        coalesce(service.contacts_on_busiest_day, 0) as contacts_on_busiest_day,
        coalesce(service.service_abuse_days, 0) as service_abuse_days,
        coalesce(service.is_service_abuser, false) as is_service_abuser,
        returned.units_sold,
        returned.units_returned,
        coalesce(returned.return_count, 0) as return_count,
        returned.returned_share,
        returned.company_returned_share,
        coalesce(returned.is_heavy_returner, false) as is_heavy_returner
    from {{ ref('customer_profitability') }} as profitability
    inner join as_of_periods on profitability.as_of_period = as_of_periods.as_of_period
    inner join {{ ref('customer_segments') }} as segments
        on profitability.customer_id = segments.customer_id
            and profitability.as_of_period = segments.as_of_period
    inner join {{ ref('int_customer_growth_prospects') }} as growth
        on profitability.customer_id = growth.customer_id
            and profitability.as_of_period = growth.as_of_period
    inner join {{ ref('int_customer_lifetime_peaks') }} as lifetime
        on profitability.customer_id = lifetime.customer_id
            and profitability.as_of_period = lifetime.as_of_period
    left join {{ ref('int_customer_busiest_service_days') }} as service
        on profitability.customer_id = service.customer_id
            and profitability.as_of_period = service.as_of_period
    left join {{ ref('int_customer_return_shares') }} as returned
        on profitability.customer_id = returned.customer_id
            and profitability.as_of_period = returned.as_of_period
),

exempted as (
    select
        *,
        -- The order value whose gross margin, at the customer's own gross margin rate,
        -- covers the customer's own cost to serve per order: cost per order / rate, to the
        -- cent. None when the customer placed no order or has no positive gross margin (no
        -- order size makes it profitable then).
        case
            when invoice_count > 0 and revenue > 0 and gross_margin > 0
                then cast(
                        {{ as_float('cost_to_serve') }} / invoice_count
                        / ({{ as_float('gross_margin') }} / {{ as_float('revenue') }})
                        as decimal(38, 2)
                    )
        end as break_even_order_value,
        case
            when segment = 'profit_desert' and quartile >= 2
                then
                    case
                        when is_growth_prospect and is_lifetime_exempt then 'growth_prospect_and_lifetime_peak'
                        when is_growth_prospect then 'growth_prospect'
                        when is_lifetime_exempt then 'lifetime_peak'
                    end
        end as exemption
    from customers
),

decided as (
    select
        *,
        segment = 'profit_desert' and quartile = 4 and exemption is null as is_restricted,
        segment = 'profit_desert' and quartile in (2, 3) as is_cross_sell_candidate,
        net_profit < 0 as is_value_destroyer,
        -- profit decides, not the return rate alone
        is_heavy_returner and net_profit < 0 as is_return_abuser
    from exempted
)

select
    -- ids
    customer_id,
    as_of_period,
    -- segment
    segment,
    quartile,
    window_months_closed,
    -- terms
    is_restricted as no_discounts,
    {{ money('case when is_restricted then break_even_order_value end') }} as min_order_value,
    is_restricted as charge_freight,
    is_restricted or (is_cross_sell_candidate and exemption is null) as charge_expedite,
    {{ as_float('case when is_restricted then ' ~ var('restocking_fee_pct') ~ ' else 0 end') }}
        as restocking_fee_pct,
    cast(case when is_restricted then {{ var('extra_order_cycle_days') }} else 0 end as integer)
        as extra_order_cycle_days,
    -- flags
    is_growth_prospect,
    is_lifetime_exempt,
    exemption,
    is_cross_sell_candidate,
    is_value_destroyer,
    is_service_abuser,
    is_return_abuser,
    case
        when is_growth_prospect then 'develop'
        when exemption is not null then 'keep'
        when is_service_abuser then 'move_to_self_service'
        when is_value_destroyer and contribution < 0 then 'let_go'
        when is_return_abuser or is_restricted then 'charge_for_service'
        when is_value_destroyer then 'reprice'
        when is_cross_sell_candidate then 'cross_sell'
        else 'keep'
    end as recommended_action,
    -- the numbers behind the flags
    {{ money('revenue') }} as revenue,
    {{ money('gross_margin') }} as gross_margin,
    {{ money('cost_to_serve') }} as cost_to_serve,
    {{ money('net_profit') }} as net_profit,
    {{ money('contribution') }} as contribution,
    {{ money('pool_cost_fixed') }} as pool_cost_fixed,
    invoice_count,
    average_order_value,
    {{ money('break_even_order_value') }} as break_even_order_value,
    revenue_growth,
    share_of_wallet,
    est_annual_spend,
    is_growing_fast,
    has_small_share_of_wallet,
    last_peak_as_of_period,
    busiest_service_day,
    contacts_on_busiest_day,
    service_abuse_days,
    return_count,
    units_sold,
    units_returned,
    returned_share,
    company_returned_share,
    is_heavy_returner,
    is_restricted
from decided
