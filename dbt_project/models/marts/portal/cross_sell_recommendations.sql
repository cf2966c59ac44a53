-- One row per as-of period, customer and recommended product family: the
-- market-basket model of METHOD.md ("The desert portal", cross-sell) over the window
-- of `window_months` months. support(a, b) = customers in scope who bought both a
-- and b; confidence(a -> b) = support / buyers of a; lift = confidence / (buyers of b
-- / customers in scope). A customer's candidates are the families it did not buy,
-- scored by the best rule from one of its families a (support at least
-- cross_sell_min_customers, lift above 1): confidence times family b's net profit per
-- buying customer. The top cross_sell_per_customer families with a score above 0,
-- for every customer; is_cross_sell_candidate (middle desert quartiles) says whom the
-- commerce site shows them to.
-- Only a family's first cross_sell_per_customer + (families the customer bought - 1)
-- rules, in the order of the ranking (score desc, family b), can give a customer one of
-- its top cross_sell_per_customer: of the rules from a before a -> b, at most the
-- customer's other families are ones it bought, so the rest are that many families
-- that rank before b (their best score is at least a -> b's, ties by family). The
-- other candidates are never built: 0.9 million on the default demo instead of 2.3.
-- Incremental: a build redoes only the as-of periods customer_profitability rebuilt
-- since its last build, those whose window holds a changed month (the baskets and the
-- flags of an as-of period come from the same window); macros/incremental.sql.
{{ config(materialized='incremental', unique_key='as_of_period') }}
{%- set text = dbt.type_string() %}

with

as_of_periods as (
    select distinct as_of_period
    -- The alias serves the incremental filter below, absent from a full build.
    from {{ ref('customer_profitability') }} as profitability -- noqa: AL05
    {%- if is_incremental() %}
    where {{ built_since_last_build('profitability') }}
    {%- endif %}
),

scope as (
    select
        profitability.as_of_period,
        count(*) as customers_in_scope
    from {{ ref('customer_profitability') }} as profitability
    inner join as_of_periods on profitability.as_of_period = as_of_periods.as_of_period
    group by profitability.as_of_period
),

customer_families as (
    select customer_families.*
    from {{ ref('int_cross_sell_customer_families') }} as customer_families
    inner join as_of_periods on customer_families.as_of_period = as_of_periods.as_of_period
),

baskets as (
    select
        customer_id,
        as_of_period,
        product_family,
        count(*) over (partition by customer_id, as_of_period) as families_bought
    from customer_families
    where bought
),

-- A family's net profit per buying customer: its rows' net profit over every
-- customer (returns of non-buyers included, they are the family's) / its buyers.
families as (
    select
        as_of_period,
        product_family,
        sum(case when bought then 1 else 0 end) as buyers,
        sum(net_profit) as net_profit
    from customer_families
    group by as_of_period, product_family
),

pairs as (
    select
        bought_a.as_of_period,
        bought_a.product_family as family_a,
        bought_b.product_family as family_b,
        count(*) as support
    from baskets as bought_a
    inner join baskets as bought_b
        on bought_a.customer_id = bought_b.customer_id
            and bought_a.as_of_period = bought_b.as_of_period
            and bought_a.product_family != bought_b.product_family
    group by bought_a.as_of_period, bought_a.product_family, bought_b.product_family
),

rules as (
    select
        pairs.as_of_period,
        pairs.family_a,
        pairs.family_b,
        pairs.support,
        {{ as_float('pairs.support') }} / family_a.buyers as confidence,
        {{ as_float('pairs.support') }} / family_a.buyers
        / ({{ as_float('family_b.buyers') }} / scope.customers_in_scope) as lift,
        family_b.net_profit / family_b.buyers as net_profit_per_buying_customer
    from pairs
    inner join families as family_a
        on pairs.as_of_period = family_a.as_of_period
            and pairs.family_a = family_a.product_family
    inner join families as family_b
        on pairs.as_of_period = family_b.as_of_period
            and pairs.family_b = family_b.product_family
    inner join scope on pairs.as_of_period = scope.as_of_period
    where pairs.support >= {{ var('cross_sell_min_customers') }}
),

-- The rules a recommendation can come from (lift above 1), scored.
scored_rules as (
    select
        *,
        confidence * net_profit_per_buying_customer as score
    from rules
    where lift > 1
),

-- Those with a score above 0, in the order of the ranking within their family a.
lifting_rules as (
    select
        *,
        row_number() over (
            partition by as_of_period, family_a
            order by score desc, family_b asc
        ) as order_in_family
    from scored_rules
    where score > 0
),

-- Every rule from a family the customer bought to one it did not buy.
candidates as (
    select
        baskets.customer_id,
        baskets.as_of_period,
        rules.family_b as product_family,
        rules.family_a as because_of_family,
        rules.support,
        rules.confidence,
        rules.lift,
        rules.net_profit_per_buying_customer,
        rules.score
    from baskets
    inner join lifting_rules as rules
        on baskets.as_of_period = rules.as_of_period
            and baskets.product_family = rules.family_a
            and rules.order_in_family < {{ var('cross_sell_per_customer') }} + baskets.families_bought
    left join baskets as owned
        on baskets.customer_id = owned.customer_id
            and baskets.as_of_period = owned.as_of_period
            and rules.family_b = owned.product_family
    where owned.customer_id is null
),

-- The max over the customer's families: the best rule per candidate family, ties
-- by the family it comes from.
best_rules as (
    select
        *,
        row_number() over (
            partition by customer_id, as_of_period, product_family
            order by score desc, because_of_family asc
        ) as rule_rank
    from candidates
),

ranked as (
    select
        *,
        row_number() over (
            partition by customer_id, as_of_period
            order by score desc, product_family asc
        ) as recommendation_rank
    from best_rules
    where rule_rank = 1
)

select
    ranked.as_of_period,
    ranked.customer_id,
    ranked.product_family,
    cast(ranked.recommendation_rank as integer) as recommendation_rank,
    {{ money('ranked.score') }} as score,
    ranked.because_of_family,
    cast(ranked.support as integer) as support,
    {{ as_float('ranked.confidence') }} as confidence,
    {{ as_float('ranked.lift') }} as lift,
    {{ money('ranked.net_profit_per_buying_customer') }} as net_profit_per_buying_customer,
    coalesce(flags.is_cross_sell_candidate, false) as is_cross_sell_candidate,
    {{ dbt.concat([
        "'bought by '", "cast(cast(round(ranked.confidence * 100) as integer) as " ~ text ~ ")",
        "'% of customers who buy '", "ranked.because_of_family",
        "' (lift '", decimal_text("ranked.lift", 1),
        "'); '", money_text("ranked.net_profit_per_buying_customer"),
        "' net profit per buying customer'",
    ]) }} as reasons,
    {{ build_timestamp() }} as built_at
from ranked
left join {{ ref('customer_policy_flags') }} as flags
    on ranked.customer_id = flags.customer_id
        and ranked.as_of_period = flags.as_of_period
where ranked.recommendation_rank <= {{ var('cross_sell_per_customer') }}
