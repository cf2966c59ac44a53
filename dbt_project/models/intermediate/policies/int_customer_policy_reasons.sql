-- One row per customer, as-of period and reason: a short sentence, with the numbers
-- that caused it, for the customer's segment and net profit and for every flag that is
-- set. customer_policy_flags joins them, in reason_order, into its `reasons`.
{%- set text = dbt.type_string() %}

with

customers as (
    select * from {{ ref('int_customer_policies_decided') }}
),

-- Amounts to the cent and shares in percent with one decimal, as text.
formatted as (
    select
        *,
        {{ money_text('net_profit') }} as net_profit_text,
        {{ money_text('gross_margin') }} as gross_margin_text,
        {{ money_text('cost_to_serve') }} as cost_to_serve_text,
        {{ money_text('contribution') }} as contribution_text,
        {{ money_text('min_order_value') }} as min_order_value_text,
        {{ money_text('est_annual_spend') }} as est_annual_spend_text,
        {{ decimal_text('100 * restocking_fee_pct', 1) }} as restocking_fee_pct_text,
        {{ decimal_text('100 * revenue_growth', 1) }} as revenue_growth_text,
        {{ decimal_text('100 * share_of_wallet', 1) }} as share_of_wallet_text,
        {{ decimal_text('100 * returned_share', 1) }} as returned_share_text,
        {{ decimal_text('100 * company_returned_share', 1) }} as company_returned_share_text,
        cast(quartile as {{ text }}) as quartile_text,
        cast(window_months_closed as {{ text }}) as window_months_text,
        cast(extra_order_cycle_days as {{ text }}) as extra_order_cycle_days_text,
        cast(contacts_on_busiest_day as {{ text }}) as contacts_on_busiest_day_text,
        cast(busiest_service_day as {{ text }}) as busiest_service_day_text,
        cast(service_abuse_days as {{ text }}) as service_abuse_days_text,
        cast(return_count as {{ text }}) as return_count_text
    from customers
),

reasons as (
    select
        customer_id,
        as_of_period,
        10 as reason_order,
        'segment' as flag,
        case
            when segment = 'profit_desert' and quartile = 4 then 'bottom desert quartile'
            when segment = 'profit_desert' and quartile = 1 then 'top desert quartile'
            when segment = 'profit_desert'
                then {{ dbt.concat(["'desert quartile '", 'quartile_text']) }}
            else {{ dbt.concat(["replace(segment, '_', ' ')", "' quartile '", 'quartile_text']) }}
        end as reason
    from formatted

    union all

    select
        customer_id,
        as_of_period,
        20 as reason_order,
        'net_profit' as flag,
        {{ dbt.concat([
            "'net profit '", 'net_profit_text',
            "' over '", 'window_months_text', "' months'",
        ]) }} as reason
    from formatted

    union all

    select
        customer_id,
        as_of_period,
        30 as reason_order,
        'bottom_desert_quartile' as flag,
        {{ dbt.concat([
            "'no discounts, '",
            "coalesce(" ~ dbt.concat(["'minimum order '", 'min_order_value_text']) ~ ", "
                ~ "case when invoice_count = 0 then 'no orders to set a minimum order value on'"
                ~ " else 'no minimum order value (gross margin not positive)' end)",
            "', freight and expediting charged, '", 'restocking_fee_pct_text',
            "'% restocking fee, +'", 'extra_order_cycle_days_text', "' days order cycle'",
        ]) }} as reason
    from formatted
    where is_restricted

    union all

    select
        customer_id,
        as_of_period,
        40 as reason_order,
        'exemption' as flag,
        {{ dbt.concat([
            "'exempt from desert restrictions as '",
            "case exemption"
                ~ " when 'growth_prospect' then 'a growth prospect'"
                ~ " when 'lifetime_peak' then 'a former profit peak'"
                ~ " else 'a growth prospect and a former profit peak' end",
            "': keeps its terms'",
        ]) }} as reason
    from formatted
    where exemption is not null

    union all

    select
        customer_id,
        as_of_period,
        50 as reason_order,
        'is_growth_prospect' as flag,
        {{ dbt.concat([
            "'growth prospect: '",
            "case when is_growing_fast then coalesce(" ~ dbt.concat([
                "'revenue up '", 'revenue_growth_text', "'% on the year before'",
            ]) ~ ", 'revenue where there was none the year before') else '' end",
            "case when is_growing_fast and has_small_share_of_wallet then ' and ' else '' end",
            "case when has_small_share_of_wallet then " ~ dbt.concat([
                'share_of_wallet_text', "'% share of an estimated annual spend of '",
                'est_annual_spend_text',
            ]) ~ " else '' end",
        ]) }} as reason
    from formatted
    where is_growth_prospect

    union all

    select
        customer_id,
        as_of_period,
        60 as reason_order,
        'is_lifetime_exempt' as flag,
        {{ dbt.concat(["'profit peak in the window to '", 'last_peak_as_of_period']) }} as reason
    from formatted
    where is_lifetime_exempt

    union all

    select
        customer_id,
        as_of_period,
        70 as reason_order,
        'is_cross_sell_candidate' as flag,
        case
            when charge_expedite then 'cross-sell and upsell candidate, expediting charged'
            else 'cross-sell and upsell candidate'
        end as reason
    from formatted
    where is_cross_sell_candidate

    union all

    select
        customer_id,
        as_of_period,
        80 as reason_order,
        'is_value_destroyer' as flag,
        {{ dbt.concat([
            "'value destroyer: cost to serve '", 'cost_to_serve_text',
            "' above gross margin '", 'gross_margin_text',
        ]) }} as reason
    from formatted
    where is_value_destroyer

    union all

    select
        customer_id,
        as_of_period,
        90 as reason_order,
        'is_service_abuser' as flag,
        {{ dbt.concat([
            "'service abuser: '",
            'contacts_on_busiest_day_text', "' service contacts on '", 'busiest_service_day_text',
            "case when service_abuse_days > 1 then " ~ dbt.concat([
                "' ('", 'service_abuse_days_text', "' days at or above '",
                "'" ~ var('service_abuse_contacts_per_day') ~ "'", "')'",
            ]) ~ " else '' end",
        ]) }} as reason
    from formatted
    where is_service_abuser

    union all

    select
        customer_id,
        as_of_period,
        100 as reason_order,
        'is_return_abuser' as flag,
        {{ dbt.concat([
            "'return abuser: '",
            "coalesce(" ~ dbt.concat(['returned_share_text', "'% of units returned'"])
                ~ ", 'units returned, none sold')",
            "' (company '", 'company_returned_share_text', "'%) in '", 'return_count_text',
            "' returns, at a loss'",
        ]) }} as reason
    from formatted
    where is_return_abuser

    union all

    select
        customer_id,
        as_of_period,
        110 as reason_order,
        'let_go' as flag,
        {{ dbt.concat([
            "'let go: contribution '", 'contribution_text', "' does not cover its variable costs'",
        ]) }} as reason
    from formatted
    where recommended_action = 'let_go'
)

select
    customer_id,
    as_of_period,
    cast(reason_order as integer) as reason_order,
    flag,
    reason
from reasons
