-- One row per sales rep and as-of period: the policy overrides the rep made over the
-- window (METHOD.md, "Rep overrides") and the profit they gave away.
--
-- An override on a customer that is exempt from desert restrictions at the as-of period
-- (customer_policy_flags.exemption) lifts a term the customer keeps anyway: it is
-- counted apart, in overrides_on_exempt, and left out of overrides, the override rate,
-- profit given away and the flag. override_rate is the share of the rep's invoices
-- (invoices.sales_rep_id, in the window, exempt customers' invoices left out) on which
-- the rep lifted at least one policy. A rep is flagged when its override rate is above
-- the `override_alert_percentile` of the other reps' rates: a rep is compared with its
-- peers, so two heavy overriders do not raise the bar for each other (with 10 reps a
-- percentile that includes the rep itself could never flag more than one).
{%- set policies = ['no_discounts', 'min_order_value', 'charge_freight', 'charge_expedite', 'restocking_fee'] %}

with

windows as (
    select
        as_of_period,
        period
    from {{ ref('int_as_of_period_months') }}
),

flags as (
    select
        customer_id,
        as_of_period,
        exemption is not null as is_exempt,
        segment = 'profit_desert' and quartile = 4 as is_bottom_desert_quartile
    from {{ ref('customer_policy_flags') }}
),

overrides as (
    select
        windows.as_of_period,
        valued.rep_id,
        valued.invoice_id,
        valued.policy,
        valued.profit_given_away,
        coalesce(flags.is_exempt, false) as is_on_exempt,
        coalesce(flags.is_bottom_desert_quartile, false) as is_on_bottom_quartile
    from {{ ref('int_policy_overrides_valued') }} as valued
    inner join windows on valued.period = windows.period
    left join flags
        on valued.customer_id = flags.customer_id
            and windows.as_of_period = flags.as_of_period
),

override_counts as (
    select
        as_of_period,
        rep_id,
        sum(case when not is_on_exempt then 1 else 0 end) as overrides,
        count(distinct case when not is_on_exempt then invoice_id end) as overridden_invoices,
        sum(case when not is_on_exempt and is_on_bottom_quartile then 1 else 0 end) as overrides_on_bottom_quartile,
        sum(case when is_on_exempt then 1 else 0 end) as overrides_on_exempt,
        -- noqa: disable=LT02
        {%- for policy in policies %}
        sum(case when not is_on_exempt and policy = '{{ policy }}' then 1 else 0 end) as {{ policy }}_overrides,
        {%- endfor %}
        -- noqa: enable=LT02
        sum(case when not is_on_exempt then profit_given_away else 0 end) as profit_given_away,
        sum(case when not is_on_exempt and is_on_bottom_quartile then profit_given_away else 0 end)
            as profit_given_away_on_bottom_quartile,
        sum(case when is_on_exempt then profit_given_away else 0 end) as profit_given_away_on_exempt
    from overrides
    group by as_of_period, rep_id
),

-- Invoices are counted per rep, customer and period first: the window join then
-- handles thousands of rows, not millions.
rep_customer_periods as (
    select
        sales_rep_id as rep_id,
        customer_id,
        period,
        count(*) as invoices
    from {{ ref('stg_erp__invoices') }}
    where sales_rep_id is not null
    group by sales_rep_id, customer_id, period
),

invoice_counts as (
    select
        windows.as_of_period,
        rep_customer_periods.rep_id,
        sum(case when coalesce(flags.is_exempt, false) then 0 else rep_customer_periods.invoices end) as invoices
    from rep_customer_periods
    inner join windows on rep_customer_periods.period = windows.period
    left join flags
        on rep_customer_periods.customer_id = flags.customer_id
            and windows.as_of_period = flags.as_of_period
    group by windows.as_of_period, rep_customer_periods.rep_id
),

reps as (
    select
        as_of_period,
        rep_id
    from invoice_counts
    union
    select
        as_of_period,
        rep_id
    from override_counts
),

rated as (
    select
        reps.as_of_period,
        reps.rep_id,
        coalesce(invoice_counts.invoices, 0) as invoices,
        coalesce(override_counts.overrides, 0) as overrides,
        coalesce(override_counts.overridden_invoices, 0) as overridden_invoices,
        {{ safe_ratio('coalesce(override_counts.overridden_invoices, 0)', 'invoice_counts.invoices') }} as override_rate,
        coalesce(override_counts.overrides_on_bottom_quartile, 0) as overrides_on_bottom_quartile,
        coalesce(override_counts.overrides_on_exempt, 0) as overrides_on_exempt,
        -- noqa: disable=LT02
        {%- for policy in policies %}
        coalesce(override_counts.{{ policy }}_overrides, 0) as {{ policy }}_overrides,
        {%- endfor %}
        -- noqa: enable=LT02
        coalesce(override_counts.profit_given_away, 0) as profit_given_away,
        coalesce(override_counts.profit_given_away_on_bottom_quartile, 0) as profit_given_away_on_bottom_quartile,
        coalesce(override_counts.profit_given_away_on_exempt, 0) as profit_given_away_on_exempt
    from reps
    left join invoice_counts
        on reps.as_of_period = invoice_counts.as_of_period
            and reps.rep_id = invoice_counts.rep_id
    left join override_counts
        on reps.as_of_period = override_counts.as_of_period
            and reps.rep_id = override_counts.rep_id
),

peer_thresholds as (
    select
        rep.as_of_period,
        rep.rep_id,
        {{ percentile_cont('peer.override_rate', var('override_alert_percentile')) }} as peer_override_rate_threshold
    from rated as rep
    inner join rated as peer
        on rep.as_of_period = peer.as_of_period
            and rep.rep_id <> peer.rep_id
    where peer.override_rate is not null
    group by rep.as_of_period, rep.rep_id
)

select
    -- ids
    rated.rep_id,
    rated.as_of_period,
    -- overrides
    cast(rated.overrides as integer) as overrides,
    rated.override_rate,
    {{ money('rated.profit_given_away') }} as profit_given_away,
    coalesce(rated.override_rate > peer_thresholds.peer_override_rate_threshold, false) as is_flagged,
    cast(rated.invoices as integer) as invoices,
    cast(rated.overridden_invoices as integer) as overridden_invoices,
    cast(rated.overrides_on_bottom_quartile as integer) as overrides_on_bottom_quartile,
    {{ money('rated.profit_given_away_on_bottom_quartile') }} as profit_given_away_on_bottom_quartile,
    cast(rated.overrides_on_exempt as integer) as overrides_on_exempt,
    {{ money('rated.profit_given_away_on_exempt') }} as profit_given_away_on_exempt,
    -- noqa: disable=LT02
    {%- for policy in policies %}
    cast(rated.{{ policy }}_overrides as integer) as {{ policy }}_overrides,
    {%- endfor %}
    -- noqa: enable=LT02
    peer_thresholds.peer_override_rate_threshold
from rated
left join peer_thresholds
    on rated.as_of_period = peer_thresholds.as_of_period
        and rated.rep_id = peer_thresholds.rep_id
