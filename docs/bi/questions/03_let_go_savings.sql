-- What letting go each scenario's customers would change in the latest as-of period:
-- the company keeps their fixed costs, so the change is minus their contribution
-- (positive: profit rises, the customers cost more than they bring).
select
    scenario,
    customers,
    revenue_lost,
    contribution_lost,
    fixed_cost_left_behind,
    profit_before,
    profit_after,
    profit_after - profit_before as profit_change
from marts.let_go_scenarios
where as_of_period = (select max(as_of_period) from marts.let_go_scenarios)
order by profit_change desc, scenario asc;
