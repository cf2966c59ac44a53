-- One row per as-of period, customer and product family with rows in the window of
-- `window_months` months: whether the customer bought the family in the window and
-- the family's net profit on the customer's rows (the basket of the market-basket
-- model, METHOD.md "The desert portal").
select
    family_periods.customer_id,
    windows.as_of_period,
    family_periods.product_family,
    bool_or(family_periods.bought) as bought,
    {{ money('sum(family_periods.net_profit)') }} as net_profit
from {{ ref('int_cross_sell_family_periods') }} as family_periods
inner join {{ ref('int_as_of_period_months') }} as windows
    on family_periods.period = windows.period
group by family_periods.customer_id, windows.as_of_period, family_periods.product_family
