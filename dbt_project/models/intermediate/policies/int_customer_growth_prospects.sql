-- One row per customer and as-of period: whether the customer is a growth prospect
-- (METHOD.md, "Policies for the profit desert"): a profit-desert customer whose revenue
-- grew at least `growth_min_yoy` over the window a year earlier and by at least the
-- median revenue of the window's profit-desert customers (a tail account's swing from
-- 100 to 300 is noise, not growth), or whose share of wallet (revenue /
-- est_annual_spend) is below `share_of_wallet_max` while its est_annual_spend is at
-- least the median revenue of the profit peaks.
--
-- Windows are compared per closed month: with full windows that is exactly METHOD.md's
-- ratio, and in the first year of a history (a window of 3 closed months a year
-- earlier) it compares like with like instead of 12 months with 3. Revenue is
-- annualized the same way against the yearly est_annual_spend. "Grew at least
-- growth_min_yoy" is tested without dividing, revenue >= (1 + growth_min_yoy) * revenue
-- a year earlier, so an account that had no revenue a year earlier and has some now
-- grew; when the history holds no window a year earlier, growth is not judged. The
-- increase is compared per closed month too: revenue per month less revenue per month a
-- year earlier, against the deserts' median revenue per month of the window (with full
-- windows, the increase in revenue against the deserts' median revenue). It is tested
-- multiplied out, in decimals, so that an increase of exactly the median counts:
-- revenue * months_ye - revenue_ye * months >= median * months_ye.
with

as_of_periods as (
    select
        as_of_period,
        as_of_index,
        closed_months_in_window as closed_months
    from {{ ref('int_as_of_periods') }}
),

customers as (
    select
        profitability.customer_id,
        profitability.as_of_period,
        as_of_periods.as_of_index,
        as_of_periods.closed_months,
        segments.segment,
        profitability.revenue,
        {{ as_float('profitability.revenue') }} / as_of_periods.closed_months as revenue_per_month,
        {{ as_float('profitability.revenue') }} * 12 / as_of_periods.closed_months as annualized_revenue
    from {{ ref('customer_profitability') }} as profitability
    inner join {{ ref('customer_segments') }} as segments
        on profitability.customer_id = segments.customer_id
            and profitability.as_of_period = segments.as_of_period
    inner join as_of_periods on profitability.as_of_period = as_of_periods.as_of_period
),

peaks as (
    select
        as_of_period,
        {{ percentile_cont('annualized_revenue', 0.5) }} as peak_median_revenue
    from customers
    where segment = 'profit_peak'
    group by as_of_period
),

deserts as (
    select
        as_of_period,
        {{ percentile_cont('revenue', 0.5) }} as desert_median_revenue
    from customers
    where segment = 'profit_desert'
    group by as_of_period
),

measured as (
    select
        customers.customer_id,
        customers.as_of_period,
        customers.segment,
        customers.revenue,
        year_earlier.revenue as revenue_year_earlier,
        customers.revenue_per_month,
        -- null when the history holds no window a year earlier; 0 for a customer without
        -- P&L rows in it
        case
            when year_earlier_window.as_of_period is not null
                then coalesce(year_earlier.revenue_per_month, 0)
        end as revenue_per_month_year_earlier,
        case
            when year_earlier.revenue_per_month > 0
                then customers.revenue_per_month / year_earlier.revenue_per_month - 1
        end as revenue_growth,
        owners.est_annual_spend,
        case
            when owners.est_annual_spend > 0
                then customers.annualized_revenue / {{ as_float('owners.est_annual_spend') }}
        end as share_of_wallet,
        peaks.peak_median_revenue,
        deserts.desert_median_revenue,
        -- the increase on the window a year earlier, scaled by its closed months (see above)
        customers.revenue * year_earlier_window.closed_months
        - coalesce(year_earlier.revenue, 0) * customers.closed_months as revenue_increase_scaled,
        deserts.desert_median_revenue * year_earlier_window.closed_months as desert_median_revenue_scaled
    from customers
    left join as_of_periods as year_earlier_window
        on year_earlier_window.as_of_index = customers.as_of_index - 12
    left join customers as year_earlier
        on customers.customer_id = year_earlier.customer_id
            and year_earlier.as_of_index = customers.as_of_index - 12
    left join {{ ref('stg_erp__customers') }} as owners
        on customers.customer_id = owners.customer_id
    left join peaks on customers.as_of_period = peaks.as_of_period
    left join deserts on customers.as_of_period = deserts.as_of_period
),

judged as (
    select
        *,
        coalesce(
            revenue > 0
            and revenue_per_month >= (1 + {{ var('growth_min_yoy') }}) * revenue_per_month_year_earlier
            and revenue_increase_scaled >= desert_median_revenue_scaled,
            false
        ) as is_growing_fast,
        coalesce(
            share_of_wallet < {{ var('share_of_wallet_max') }}
            and est_annual_spend >= peak_median_revenue,
            false
        ) as has_small_share_of_wallet
    from measured
)

select
    customer_id,
    as_of_period,
    segment,
    revenue,
    {{ money('revenue_year_earlier') }} as revenue_year_earlier,
    revenue_growth,
    {{ money('est_annual_spend') }} as est_annual_spend,
    share_of_wallet,
    {{ money('peak_median_revenue') }} as peak_median_revenue,
    {{ money('desert_median_revenue') }} as desert_median_revenue,
    is_growing_fast,
    has_small_share_of_wallet,
    segment = 'profit_desert' and (is_growing_fast or has_small_share_of_wallet) as is_growth_prospect
from judged
