-- One row per customer and as-of period: how the customer buys, read from its own
-- data over the window instead of surveys. Four measures, each scored as the
-- customer's percentile rank among customers in scope (0 = lowest, 1 = highest):
--   price seeker    discount_share             discount / list value of its lines
--   variety seeker  product_families           distinct product families bought
--   speed seeker    expedited_order_share      expedited invoices / invoices
--   support seeker  service_minutes_per_order  service minutes / invoices (at least 1)
-- A label is set when the score is at least `buyer_profile_percentile` (default
-- 0.75) and the measure is above 0; primary_profile is the label with the highest
-- score (ties: price, variety, speed, support), 'none' without a label.
-- Each measure is ranked rounded to 9 decimals (stable_double), so equal behaviour gives
-- equal measures and shares a score in every build: customer_profitability adds its
-- shares and service minutes up as doubles, whose last bits follow the order DuckDB's
-- threads add them in, and ties broken by 1e-13 moved 146 support scores of the default
-- demo between two builds of one extract.
{%- set threshold = var('buyer_profile_percentile') %}

with

measures as (
    select
        customers.customer_id,
        customers.as_of_period,
        {{ stable_double('coalesce(customers.discount_share, 0)') }} as discount_share,
        coalesce(families.product_families, 0) as product_families,
        {{ stable_double('coalesce(customers.expedited_order_share, 0)') }}
            as expedited_order_share,
        {{ stable_double(
            'customers.service_minutes / case when customers.invoice_count > 0'
            ~ ' then customers.invoice_count else 1 end'
        ) }} as service_minutes_per_order
    from {{ ref('customer_profitability') }} as customers
    left join {{ ref('int_customer_product_families') }} as families
        on customers.customer_id = families.customer_id
            and customers.as_of_period = families.as_of_period
),

scored as (
    select
        *,
        percent_rank() over (partition by as_of_period order by discount_share) as price_score,
        percent_rank() over (partition by as_of_period order by product_families) as variety_score,
        percent_rank() over (partition by as_of_period order by expedited_order_share) as speed_score,
        percent_rank() over (partition by as_of_period order by service_minutes_per_order) as support_score
    from measures
),

labelled as (
    select
        *,
        price_score >= {{ threshold }} and discount_share > 0 as is_price_seeker,
        variety_score >= {{ threshold }} and product_families > 0 as is_variety_seeker,
        speed_score >= {{ threshold }} and expedited_order_share > 0 as is_speed_seeker,
        support_score >= {{ threshold }} and service_minutes_per_order > 0 as is_support_seeker
    from scored
),

strongest as (
    select
        *,
        greatest(
            case when is_price_seeker then price_score else -1 end,
            case when is_variety_seeker then variety_score else -1 end,
            case when is_speed_seeker then speed_score else -1 end,
            case when is_support_seeker then support_score else -1 end
        ) as top_score
    from labelled
)

select
    customer_id,
    as_of_period,
    discount_share,
    cast(product_families as integer) as product_families,
    expedited_order_share,
    {{ as_float('service_minutes_per_order') }} as service_minutes_per_order,
    {{ as_float('price_score') }} as price_score,
    {{ as_float('variety_score') }} as variety_score,
    {{ as_float('speed_score') }} as speed_score,
    {{ as_float('support_score') }} as support_score,
    is_price_seeker,
    is_variety_seeker,
    is_speed_seeker,
    is_support_seeker,
    case
        when is_price_seeker and price_score = top_score then 'price_seeker'
        when is_variety_seeker and variety_score = top_score then 'variety_seeker'
        when is_speed_seeker and speed_score = top_score then 'speed_seeker'
        when is_support_seeker and support_score = top_score then 'support_seeker'
        else 'none'
    end as primary_profile
from strongest
