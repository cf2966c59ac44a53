-- One row per customer and as-of period with purchases in the window: how many
-- product families it bought in the window of `window_months` months (the variety
-- measure of the buyer profiles). A family bought in period p counts in the windows
-- of the as-of periods p .. p + window_months - 1; each purchase's span is cut short
-- at the family's next purchase, so spans never overlap and a plain count is a count
-- of distinct families (a range join of ~1 row per customer, family and as-of
-- period, instead of window_months rows per purchase month).
with

family_periods as (
    select
        pnl.customer_id,
        products.product_family,
        {{ period_index('pnl.period') }} as period_index
    from {{ ref('fct_invoice_line_pnl') }} as pnl
    inner join {{ ref('stg_erp__products') }} as products on pnl.sku = products.sku
    where pnl.row_kind = 'invoice'
    group by pnl.customer_id, products.product_family, pnl.period
),

spans as (
    select
        customer_id,
        product_family,
        period_index as first_as_of_index,
        least(
            {{ last_as_of_index_holding('period_index') }},
            coalesce(
                lead(period_index) over (partition by customer_id, product_family order by period_index) - 1,
                {{ last_as_of_index_holding('period_index') }}
            )
        ) as last_as_of_index
    from family_periods
)

select
    spans.customer_id,
    as_of_periods.as_of_period,
    cast(count(*) as integer) as product_families
from spans
inner join {{ ref('int_as_of_periods') }} as as_of_periods
    on as_of_periods.as_of_index between spans.first_as_of_index and spans.last_as_of_index
group by spans.customer_id, as_of_periods.as_of_period
