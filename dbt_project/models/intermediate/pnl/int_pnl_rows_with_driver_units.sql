-- Loops over the drivers confuse the layout linter's indentation rule here.
-- noqa: disable=LT02
-- One row per customer document row of the P&L (invoice, return and unattached
-- rows) with its direct components and its units of every cost driver. Pool
-- shares are rate * units, so the audit trail can be derived from this table.
-- Incremental: a build rebuilds the rows its parents rebuilt since its last build
-- (macros/incremental.sql).
{{ config(materialized='incremental', unique_key='row_id') }}
{%- set drivers = cost_drivers() %}
{%- set customer_drivers = cost_drivers(on_rows='invoice_or_unattached') %}
{%- set return_drivers = cost_drivers(on_rows='return') %}

with

invoice_lines as (
    select costed.*
    from {{ ref('int_invoice_lines_costed') }} as costed
    {%- if is_incremental() %}
    where {{ built_since_last_build('costed') }}
    {%- endif %}
),

returns as (
    select costed.*
    from {{ ref('int_returns_costed') }} as costed
    {%- if is_incremental() %}
    where {{ built_since_last_build('costed') }}
    {%- endif %}
),

activity as (
    select * from {{ ref('int_customer_activity_by_period') }}
),

-- A customer's service and sales units go to its invoice rows of the period by
-- net revenue share (equal shares when that revenue is 0).
-- All the customer's lines of the period count, rebuilt or not.
customer_period_revenue as (
    select
        customer_id,
        period,
        count(*) as line_count,
        sum(net_revenue) as net_revenue
    from {{ ref('int_invoice_lines_costed') }}
    {%- if is_incremental() %}
    where period in (select distinct invoice_lines.period from invoice_lines)
        or {{ in_rebuilt_periods('period') }}
    {%- endif %}
    group by customer_id, period
),

invoice_rows as (
    select
        {{ dbt.concat([
            "'invoice:'", "invoice_lines.invoice_id",
            "':'", "cast(invoice_lines.line_number as " ~ dbt.type_string() ~ ")",
        ]) }} as row_id,
        'invoice' as row_kind,
        invoice_lines.period,
        invoice_lines.customer_id,
        invoice_lines.invoice_id,
        invoice_lines.line_number,
        cast(null as {{ dbt.type_string() }}) as return_id,
        invoice_lines.sku,
        invoice_lines.quantity,
        invoice_lines.gross_revenue,
        invoice_lines.discount,
        invoice_lines.net_revenue,
        invoice_lines.freight_revenue,
        invoice_lines.expedite_revenue,
        0 as restocking_fee_revenue,
        invoice_lines.cogs,
        invoice_lines.freight_cost,
        invoice_lines.carrying_cost,
        invoice_lines.bad_debt,
        {%- for driver in drivers %}
        {%- if driver in customer_drivers %}
        coalesce(activity.{{ driver }}, 0) * {{ safe_ratio(
            'invoice_lines.net_revenue',
            'customer_period_revenue.net_revenue',
            '1.0 / customer_period_revenue.line_count',
        ) }} as units_{{ driver }}
        {%- elif driver in return_drivers %}
        0 as units_{{ driver }}
        {%- else %}
        invoice_lines.units_{{ driver }}
        {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    from invoice_lines
    inner join customer_period_revenue
        on invoice_lines.customer_id = customer_period_revenue.customer_id
            and invoice_lines.period = customer_period_revenue.period
    left join activity
        on invoice_lines.customer_id = activity.customer_id
            and invoice_lines.period = activity.period
),

return_rows as (
    select
        {{ dbt.concat(["'return:'", "return_id"]) }} as row_id,
        'return' as row_kind,
        period,
        customer_id,
        invoice_id,
        line_number,
        return_id,
        sku,
        quantity,
        net_revenue as gross_revenue,
        0 as discount,
        net_revenue,
        0 as freight_revenue,
        0 as expedite_revenue,
        restocking_fee_revenue,
        cogs,
        0 as freight_cost,
        0 as carrying_cost,
        0 as bad_debt,
        {%- for driver in drivers %}
        {{ 'units_' ~ driver if driver in return_drivers else '0 as units_' ~ driver }}{{ ',' if not loop.last }}
        {%- endfor %}
    from returns
),

-- Service and sales work for a customer who bought nothing that period still costs:
-- it lands on one unattached row per customer and period.
unattached_rows as (
    select
        {{ dbt.concat(["'unattached:'", "activity.customer_id", "':'", "activity.period"]) }} as row_id,
        'unattached' as row_kind,
        activity.period,
        activity.customer_id,
        cast(null as {{ dbt.type_string() }}) as invoice_id,
        cast(null as integer) as line_number,
        cast(null as {{ dbt.type_string() }}) as return_id,
        cast(null as {{ dbt.type_string() }}) as sku,
        {{ no_line_amounts() }},
        0 as carrying_cost,
        0 as bad_debt,
        {%- for driver in drivers %}
        {%- if driver in customer_drivers %}
        activity.{{ driver }} as units_{{ driver }}
        {%- else %}
        0 as units_{{ driver }}
        {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    from activity
    left join customer_period_revenue
        on activity.customer_id = customer_period_revenue.customer_id
            and activity.period = customer_period_revenue.period
    where customer_period_revenue.customer_id is null
        and {{ in_rebuilt_periods('activity.period') }}
),

document_rows as (
    select * from invoice_rows
    union all
    select * from return_rows
    union all
    select * from unattached_rows
)

select
    document_rows.*,
    {{ build_timestamp() }} as built_at
from document_rows
