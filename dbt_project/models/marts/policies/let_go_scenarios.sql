-- One row per as-of period and scenario: the what-if "let go" of METHOD.md for a set
-- of customers. The company loses their contribution (revenue + other revenue - COGS -
-- freight cost - variable pool shares - carrying cost - bad debt); their fixed pool
-- shares stay behind, to be spread over everyone else. So
--     profit_after = profit_before - contribution_lost
-- and letting go a customer with a positive contribution lowers profit even when its
-- net profit is negative. profit_before is the company's net profit over the window,
-- every P&L row included (idle capacity and unallocated pools too).
{%- set scenarios = [
    ('value_destroyers', 'is_value_destroyer',
        'every value destroyer (net profit below zero)'),
    ('bottom_desert_quartile_not_exempt', "segment = 'profit_desert' and quartile = 4 and exemption is null",
        'the bottom desert quartile without its exempt customers'),
    ('bottom_desert_quartile_all', "segment = 'profit_desert' and quartile = 4",
        'the whole bottom desert quartile, exempt customers too'),
    ('value_destroyers_and_service_abusers', 'is_value_destroyer and is_service_abuser',
        'value destroyers that are also service abusers'),
    ('recommended_let_go', "recommended_action = 'let_go'",
        'the customers whose recommended action is let_go (negative contribution)'),
] %}

with

company as (
    select
        as_of_period,
        net_profit
    from {{ ref('int_company_pnl_by_as_of_period') }}
),

-- Jinja loops confuse the layout linter's indentation rule.
-- noqa: disable=LT02
scenarios as (
    {%- for name, condition, description in scenarios %}
    select
        '{{ name }}' as scenario,
        '{{ description }}' as description
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

-- noqa: enable=LT02
flags as (
    select * from {{ ref('customer_policy_flags') }}
),

customers_in_scope as (
    select
        as_of_period,
        count(*) as customers
    from flags
    group by as_of_period
),

-- noqa: disable=LT02
members as (
    {%- for name, condition, description in scenarios %}
    select
        as_of_period,
        '{{ name }}' as scenario,
        revenue,
        contribution,
        pool_cost_fixed,
        net_profit
    from flags
    where {{ condition }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

-- noqa: enable=LT02
lost as (
    select
        as_of_period,
        scenario,
        count(*) as customers,
        sum(revenue) as revenue_lost,
        sum(contribution) as contribution_lost,
        sum(pool_cost_fixed) as fixed_cost_left_behind,
        sum(net_profit) as net_profit_of_customers
    from members
    group by as_of_period, scenario
)

select
    company.as_of_period,
    scenarios.scenario,
    cast(coalesce(lost.customers, 0) as integer) as customers,
    {{ money('coalesce(lost.revenue_lost, 0)') }} as revenue_lost,
    {{ money('coalesce(lost.contribution_lost, 0)') }} as contribution_lost,
    {{ money('coalesce(lost.fixed_cost_left_behind, 0)') }} as fixed_cost_left_behind,
    {{ money('company.net_profit') }} as profit_before,
    {{ money('company.net_profit - coalesce(lost.contribution_lost, 0)') }} as profit_after,
    scenarios.description,
    {{ money('coalesce(lost.net_profit_of_customers, 0)') }} as net_profit_of_customers,
    {{ money('-coalesce(lost.contribution_lost, 0)') }} as profit_change,
    cast(coalesce(customers_in_scope.customers, 0) - coalesce(lost.customers, 0) as integer) as remaining_customers
from company
cross join scenarios
left join lost
    on company.as_of_period = lost.as_of_period
        and scenarios.scenario = lost.scenario
left join customers_in_scope on company.as_of_period = customers_in_scope.as_of_period
