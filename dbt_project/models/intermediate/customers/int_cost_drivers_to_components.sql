-- One row per cost driver (METHOD.md, "Cost pools and drivers"): the cost-to-serve
-- component its pools count towards in the customer, rep and product marts. A pool
-- belongs to the component of its driver, so the mapping holds for any pool names.
-- Revenue-driven pools (credit and collections in the demo) are part of the
-- order-to-cash cycle and count as order handling.

select
    mapping.driver,
    mapping.cost_component
from (
    values
    ('orders', 'order_handling'),
    ('manual_orders', 'order_handling'),
    ('revenue', 'order_handling'),
    ('invoice_lines', 'picking_and_shipping'),
    ('units', 'picking_and_shipping'),
    ('weight_kg', 'picking_and_shipping'),
    ('shipments', 'picking_and_shipping'),
    ('expedited_orders', 'picking_and_shipping'),
    ('returns', 'returns'),
    ('return_units', 'returns'),
    ('service_minutes', 'service'),
    ('service_contacts', 'service'),
    ('sales_minutes', 'sales')
) as mapping (driver, cost_component)
