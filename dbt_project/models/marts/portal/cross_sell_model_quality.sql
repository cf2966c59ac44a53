-- One row per as-of period that has an as-of period cross_sell_quality_months
-- earlier: how well the basket model predicted (METHOD.md, "The desert portal").
-- The recommendations built on the window ending cross_sell_quality_months before
-- the as-of period (cross_sell_recommendations of that earlier as-of period) are
-- checked against what their customers bought in the following
-- cross_sell_quality_months months, up to and including the as-of period. The
-- baseline recommends, to the same customers and as many families each, the families
-- most customers bought in that earlier window among those the customer lacked
-- (ties by family). An as-of period without such an earlier one has no row.
with

as_of_periods as (
    select
        later.as_of_period,
        later.as_of_index,
        earlier.as_of_period as model_as_of_period
    from {{ ref('int_as_of_periods') }} as later
    inner join {{ ref('int_as_of_periods') }} as earlier
        on earlier.as_of_index = later.as_of_index - {{ var('cross_sell_quality_months') }}
),

model as (
    select
        customer_id,
        as_of_period,
        product_family
    from {{ ref('cross_sell_recommendations') }}
),

recommended_counts as (
    select
        customer_id,
        as_of_period,
        count(*) as recommendations
    from model
    group by customer_id, as_of_period
),

owned as (
    select
        customer_id,
        as_of_period,
        product_family
    from {{ ref('int_cross_sell_customer_families') }}
    where bought
),

popularity as (
    select
        as_of_period,
        product_family,
        count(*) as buyers
    from owned
    group by as_of_period, product_family
),

baseline_candidates as (
    select
        recommended_counts.customer_id,
        recommended_counts.as_of_period,
        popularity.product_family,
        recommended_counts.recommendations,
        row_number() over (
            partition by recommended_counts.customer_id, recommended_counts.as_of_period
            order by popularity.buyers desc, popularity.product_family asc
        ) as popularity_rank
    from recommended_counts
    inner join popularity on recommended_counts.as_of_period = popularity.as_of_period
    left join owned
        on recommended_counts.customer_id = owned.customer_id
            and recommended_counts.as_of_period = owned.as_of_period
            and popularity.product_family = owned.product_family
    where owned.customer_id is null
),

baseline as (
    select
        customer_id,
        as_of_period,
        product_family
    from baseline_candidates
    where popularity_rank <= recommendations
),

later_purchases as (
    select distinct
        as_of_periods.as_of_period,
        as_of_periods.model_as_of_period,
        family_periods.customer_id,
        family_periods.product_family
    from {{ ref('int_cross_sell_family_periods') }} as family_periods
    inner join as_of_periods
        on family_periods.period_index
            between as_of_periods.as_of_index - {{ var('cross_sell_quality_months') }} + 1
            and as_of_periods.as_of_index
    where family_periods.bought
),

-- The customers of an as-of period who bought a family the model, or the baseline,
-- recommended to them in its earlier as-of period.
model_hits as (
    select distinct
        later_purchases.as_of_period,
        later_purchases.customer_id
    from later_purchases
    inner join model
        on later_purchases.customer_id = model.customer_id
            and later_purchases.model_as_of_period = model.as_of_period
            and later_purchases.product_family = model.product_family
),

baseline_hits as (
    select distinct
        later_purchases.as_of_period,
        later_purchases.customer_id
    from later_purchases
    inner join baseline
        on later_purchases.customer_id = baseline.customer_id
            and later_purchases.model_as_of_period = baseline.as_of_period
            and later_purchases.product_family = baseline.product_family
),

evaluated as (
    select
        as_of_periods.as_of_period,
        recommended_counts.customer_id,
        model_hits.customer_id is not null as is_hit,
        baseline_hits.customer_id is not null as is_baseline_hit
    from as_of_periods
    inner join recommended_counts on as_of_periods.model_as_of_period = recommended_counts.as_of_period
    left join model_hits
        on as_of_periods.as_of_period = model_hits.as_of_period
            and recommended_counts.customer_id = model_hits.customer_id
    left join baseline_hits
        on as_of_periods.as_of_period = baseline_hits.as_of_period
            and recommended_counts.customer_id = baseline_hits.customer_id
)

select
    as_of_periods.as_of_period,
    as_of_periods.model_as_of_period,
    cast(count(evaluated.customer_id) as integer) as customers_evaluated,
    {{ safe_ratio('sum(case when evaluated.is_hit then 1 else 0 end)', 'count(evaluated.customer_id)') }} as hit_rate,
    {{ safe_ratio('sum(case when evaluated.is_baseline_hit then 1 else 0 end)', 'count(evaluated.customer_id)') }}
        as baseline_hit_rate
from as_of_periods
left join evaluated on as_of_periods.as_of_period = evaluated.as_of_period
group by as_of_periods.as_of_period, as_of_periods.model_as_of_period
