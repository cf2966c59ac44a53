-- Which SKUs the desert portal shows first in each product family, in the latest
-- as-of period: the top three of the family by rank_in_family, with their names.
select
    rankings.product_family,
    rankings.rank_in_family,
    rankings.sku,
    products.product_name,
    products.brand,
    rankings.units,
    rankings.net_profit_per_unit,
    rankings.desert_net_profit_per_unit,
    rankings.ranked_by
from marts.product_rankings as rankings
inner join marts.dim_products as products
    on rankings.sku = products.sku
where rankings.as_of_period = (select max(as_of_period) from marts.product_rankings)
    and rankings.rank_in_family <= 3
order by rankings.product_family asc, rankings.rank_in_family asc;
