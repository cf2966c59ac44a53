-- One row per as-of period, product (sku) and return reason that is an alert
-- (METHOD.md, "The desert portal"): the SKU's returns with that reason_code per unit
-- it sold in the window, at least `reason_alert_ratio` times the same rate over its
-- whole family (the family's returns with that reason / the family's units sold, the
-- SKU included), with at least `reason_alert_min_returns` such returns. Returns
-- without a reason_code name no deficiency and never alert. likely_fix is METHOD's;
-- a reason outside its list (the demo's not_needed, or a code the ERP adds later)
-- still alerts, with likely_fix 'investigate': a reason METHOD names no fix for.
{{ config(materialized='incremental', unique_key='as_of_period') }}
{%- set text = dbt.type_string() %}

with

-- The window join of the customer marts; an incremental build redoes only the as-of
-- periods whose window holds a period that changed since its last build
-- (macros/incremental.sql).
windows as (
    {{ window_months_to_rebuild(
        changed_periods=periods_built_since_last_build(ref('int_sku_customer_pnl_by_period'))
            ~ ' union ' ~ periods_built_since_last_build(ref('int_sku_return_reasons_by_period'))
    ) }}
),

likely_fixes as (
    select
        fixes.reason_code,
        fixes.likely_fix
    from (
        values
        ('unclear_instructions', 'instructions'),
        ('defective', 'supplier quality'),
        ('wrong_item', 'catalogue or picking'),
        ('damaged', 'packaging or carrier')
    ) as fixes (reason_code, likely_fix)
),

units_sold as (
    select
        windows.as_of_period,
        sku_periods.sku,
        sum(sku_periods.units_sold) as units_sold
    from {{ ref('int_sku_customer_pnl_by_period') }} as sku_periods
    inner join windows on sku_periods.period = windows.period
    group by windows.as_of_period, sku_periods.sku
),

reason_returns as (
    select
        windows.as_of_period,
        reasons.sku,
        reasons.reason_code,
        sum(reasons.return_count) as return_count
    from {{ ref('int_sku_return_reasons_by_period') }} as reasons
    inner join windows on reasons.period = windows.period
    where reasons.reason_code is not null
    group by windows.as_of_period, reasons.sku, reasons.reason_code
),

skus as (
    select
        units_sold.as_of_period,
        units_sold.sku,
        products.product_family,
        units_sold.units_sold
    from units_sold
    inner join {{ ref('stg_erp__products') }} as products on units_sold.sku = products.sku
),

families as (
    select
        as_of_period,
        product_family,
        sum(units_sold) as units_sold
    from skus
    group by as_of_period, product_family
),

family_reasons as (
    select
        reason_returns.as_of_period,
        products.product_family,
        reason_returns.reason_code,
        sum(reason_returns.return_count) as return_count
    from reason_returns
    inner join {{ ref('stg_erp__products') }} as products on reason_returns.sku = products.sku
    group by reason_returns.as_of_period, products.product_family, reason_returns.reason_code
),

rates as (
    select
        reason_returns.as_of_period,
        reason_returns.sku,
        skus.product_family,
        reason_returns.reason_code,
        reason_returns.return_count,
        {{ safe_ratio('reason_returns.return_count', 'skus.units_sold') }} as rate_per_unit_sold,
        {{ safe_ratio('family_reasons.return_count', 'families.units_sold') }} as family_rate
    from reason_returns
    inner join skus
        on reason_returns.as_of_period = skus.as_of_period
            and reason_returns.sku = skus.sku
    inner join families
        on skus.as_of_period = families.as_of_period
            and skus.product_family = families.product_family
    inner join family_reasons
        on skus.as_of_period = family_reasons.as_of_period
            and skus.product_family = family_reasons.product_family
            and reason_returns.reason_code = family_reasons.reason_code
),

alerts as (
    select
        rates.*,
        rates.rate_per_unit_sold / rates.family_rate as ratio,
        coalesce(likely_fixes.likely_fix, 'investigate') as likely_fix
    from rates
    left join likely_fixes on rates.reason_code = likely_fixes.reason_code
    where rates.return_count >= {{ var('reason_alert_min_returns') }}
        and rates.rate_per_unit_sold >= {{ var('reason_alert_ratio') }} * rates.family_rate
)

select
    as_of_period,
    sku,
    product_family,
    reason_code,
    cast(return_count as integer) as returns,
    rate_per_unit_sold,
    family_rate,
    ratio,
    likely_fix,
    {{ dbt.concat([
        "reason_code", "' returns '", decimal_text("ratio", 1),
        "' times the family''s rate ('", "cast(return_count as " ~ text ~ ")", "' returns): '",
        "case when likely_fix = 'investigate' then 'no known fix, investigate' else "
        ~ dbt.concat(["'fix the '", "likely_fix"]) ~ " end",
    ]) }} as reasons,
    {{ build_timestamp() }} as built_at
from alerts
