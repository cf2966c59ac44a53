-- One row per customer and as-of period: whether the customer was a profit peak in any
-- of the previous `lifetime_lookback_years` yearly windows ending at the same month
-- (the as-of periods 12, 24, 36 ... months earlier). Such a customer is lifetime
-- exempt: an intermittent, project-based buyer keeps its terms through a lean year
-- (METHOD.md, "Policies for the profit desert"). Only windows that the history holds
-- can count: a yearly window before the first closed period does not exist.
{%- set lookback_years = var('lifetime_lookback_years') | int %}

with

segments as (
    select
        customer_id,
        as_of_period,
        segment,
        {{ period_index('as_of_period') }} as as_of_index
    from {{ ref('customer_segments') }}
),

-- Jinja loops confuse the layout linter's indentation rule.
-- noqa: disable=LT02
lookback as (
    {%- for years_back in range(1, lookback_years + 1) %}
    select {{ years_back }} as years_back
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- if lookback_years < 1 %}
    -- no lookback: nobody is lifetime exempt
    select 0 as years_back
    where 1 = 0
    {%- endif %}
),

-- noqa: enable=LT02
earlier_peaks as (
    select
        current_window.customer_id,
        current_window.as_of_period,
        earlier_window.as_of_period as peak_as_of_period
    from segments as current_window
    cross join lookback
    inner join segments as earlier_window
        on current_window.customer_id = earlier_window.customer_id
            and earlier_window.as_of_index = current_window.as_of_index - 12 * lookback.years_back
    where earlier_window.segment = 'profit_peak'
),

peak_counts as (
    select
        customer_id,
        as_of_period,
        count(*) as peak_windows,
        max(peak_as_of_period) as last_peak_as_of_period
    from earlier_peaks
    group by customer_id, as_of_period
)

select
    segments.customer_id,
    segments.as_of_period,
    cast(coalesce(peak_counts.peak_windows, 0) as integer) as peak_windows_in_lookback,
    peak_counts.last_peak_as_of_period,
    peak_counts.peak_windows is not null as is_lifetime_exempt
from segments
left join peak_counts
    on segments.customer_id = peak_counts.customer_id
        and segments.as_of_period = peak_counts.as_of_period
