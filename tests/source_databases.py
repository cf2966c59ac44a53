"""Loads a demo extract into a PostgreSQL database, for the tests of database sources:
as the contract's own tables (CONTRACT.md: one table per contract table, same columns)."""

from __future__ import annotations

from pathlib import Path

import adbc_driver_postgresql.dbapi as adbc
import duckdb
import pyarrow as pa

from pipelines.contract import LOAD_ORDER, TABLES
from pipelines.sql import quote_identifier, quote_literal

# One money total per period and customer, and the segments and policy flags as they are.
PNL_BY_CUSTOMER = """
    select period, customer_id, row_kind, sum(net_revenue), sum(cogs), sum(pool_cost_total),
           sum(net_profit), count(*)
    from marts.fct_invoice_line_pnl group by all order by all
"""
SEGMENTS = "select * from marts.customer_segments order by all"
POLICY_FLAGS = "select * from marts.customer_policy_flags order by all"


def contract_table(landing: Path, table: str) -> pa.Table:
    """The table's records of the landing folder, typed as the contract says."""
    contract = TABLES[table]
    columns = ", ".join(
        f"cast({quote_identifier(c.name)} as {c.warehouse_type}) as {quote_identifier(c.name)}"
        for c in contract.columns
    )
    files = str(Path(landing) / table / "*.parquet")
    con = duckdb.connect()
    return con.sql(f"select {columns} from read_parquet({quote_literal(files)})").to_arrow_table()


def load_contract_tables(dsn: str, landing: Path, tables=LOAD_ORDER) -> None:
    with adbc.connect(dsn) as connection, connection.cursor() as cursor:
        for table in tables:
            cursor.adbc_ingest(table, contract_table(landing, table), mode="create")
        connection.commit()


# The Odoo 17 tables and columns that mappings/odoo.yml reads, with Odoo's names and
# column types (from the models in odoo/odoo: addons/base, product, account, sale,
# sales_team, utm, stock, stock_account, delivery); x_ columns are custom fields (Odoo
# Studio) for what Odoo has no field for, and product_brand is the OCA module's table.
ODOO_TABLES = """
create table res_users (id integer primary key, login varchar not null, active boolean);
create table crm_team (id integer primary key, name jsonb not null);
create table res_partner_industry (id integer primary key, name jsonb, full_name jsonb);
create table res_partner (
    id integer primary key, name varchar, ref varchar, is_company boolean,
    customer_rank integer, industry_id integer, team_id integer, user_id integer,
    create_date timestamp, write_date timestamp, active boolean,
    x_employee_count integer, x_est_annual_spend numeric, x_acquisition_channel varchar
);
create table product_category (
    id integer primary key, name varchar not null, complete_name varchar, parent_id integer
);
create table product_brand (id integer primary key, name varchar not null);
create table product_template (
    id integer primary key, name jsonb not null, categ_id integer, list_price numeric,
    type varchar, product_brand_id integer, write_date timestamp
);
create table product_product (
    id integer primary key, product_tmpl_id integer not null, default_code varchar,
    weight numeric, standard_price jsonb, active boolean, write_date timestamp
);
create table res_currency (id integer primary key, name varchar not null);
create table account_payment_term (id integer primary key, name jsonb not null);
create table account_payment_term_line (
    id integer primary key, payment_id integer, value varchar, nb_days integer
);
create table utm_medium (id integer primary key, name varchar not null);
create table delivery_carrier (id integer primary key, name jsonb not null, delivery_type varchar);
create table sale_order (
    id integer primary key, name varchar not null, partner_id integer, date_order timestamp,
    user_id integer, medium_id integer, carrier_id integer, state varchar
);
create table sale_order_line (
    id integer primary key, order_id integer not null, sequence integer, product_id integer,
    product_uom_qty numeric
);
create table sale_order_line_invoice_rel (invoice_line_id integer, order_line_id integer);
create table account_payment (
    id integer primary key, name varchar, partner_id integer, date date, amount numeric,
    payment_type varchar, partner_type varchar
);
create table account_move (
    id integer primary key, name varchar, move_type varchar not null, state varchar,
    partner_id integer, date date, invoice_date date, invoice_user_id integer,
    invoice_payment_term_id integer, currency_id integer, invoice_origin varchar,
    reversed_entry_id integer, ref varchar, payment_id integer, write_date timestamp,
    x_return_disposition varchar
);
create table account_move_line (
    id integer primary key, move_id integer not null, sequence integer, product_id integer,
    quantity numeric, price_unit numeric, discount numeric, price_subtotal numeric,
    balance numeric, display_type varchar, name varchar, cogs_origin_id integer,
    x_discount_code varchar, x_warehouse varchar, x_backordered boolean
);
create table account_partial_reconcile (
    id integer primary key, debit_move_id integer, credit_move_id integer, amount numeric,
    max_date date
);
create table stock_picking_type (id integer primary key, code varchar not null);
create table stock_picking (
    id integer primary key, name varchar, picking_type_id integer, sale_id integer,
    carrier_id integer, date_done timestamp, shipping_weight numeric, carrier_price numeric,
    state varchar
);
"""

# The demo company as Odoo stores it, from the contract tables in the schema `demo`.
# Ids are row numbers; money lines follow Odoo: a discount is `discount` percent on the
# line with price_subtotal the amount charged, freight and expedite fees are lines of
# service products, COGS are the anglo-saxon `cogs` lines linked by cogs_origin_id, a
# return is a credit note (out_refund) reversing the invoice, a payment is reconciled
# with the invoice's receivable line.
ODOO_FROM_DEMO = """
create temp table rep as
select row_number() over (order by rep) as id, rep
from (select sales_rep_id as rep from demo.customers union select sales_rep_id from demo.invoices
      union select rep_id from demo.policy_overrides) as reps where rep is not null;
insert into res_users select id, rep, true from rep;
create temp table region as
select row_number() over (order by region) as id, region from
(select distinct region from demo.customers where region is not null) as r;
insert into crm_team select id, jsonb_build_object('en_US', region) from region;
create temp table industry as
select row_number() over (order by industry) as id, industry from
(select distinct industry from demo.customers where industry is not null) as i;
insert into res_partner_industry
select id, jsonb_build_object('en_US', industry), jsonb_build_object('en_US', industry)
from industry;
create temp table partner as
select row_number() over (order by customer_id) as id, c.* from demo.customers as c;
insert into res_partner
select p.id, p.customer_name, p.customer_id, true, 1, i.id, r.id, u.id, p.created_date,
       p.created_date, true, p.employee_count, p.est_annual_spend, p.acquisition_channel
from partner as p
left join industry as i using (industry) left join region as r using (region)
left join rep as u on u.rep = p.sales_rep_id;
-- A vendor: the mapping's `customer_rank > 0` keeps it out.
insert into res_partner (id, name, ref, customer_rank, active)
values (100000, 'Paper Mill Supply', 'V-1', 0, true);
create temp table category as
select row_number() over (order by category) as id, category from
(select distinct coalesce(category, '') as category from demo.products) as c;
insert into product_category select id, category, category, null from category;
create temp table family as
select 1000 + row_number() over (order by category, product_family) as id, category,
       product_family from
(select distinct coalesce(category, '') as category, product_family from demo.products) as f;
insert into product_category
select f.id, f.product_family, c.category || ' / ' || f.product_family, c.id
from family as f join category as c using (category);
create temp table brand as
select row_number() over (order by brand) as id, brand from
(select distinct brand from demo.products where brand is not null) as b;
insert into product_brand select id, brand from brand;
create temp table product as
select row_number() over (order by sku) as id, p.* from demo.products as p;
insert into product_template
select p.id, jsonb_build_object('en_US', p.product_name), f.id, p.list_price, 'consu', b.id,
       timestamp '2026-01-01'
from product as p join family as f
    on f.category = coalesce(p.category, '') and f.product_family = p.product_family
left join brand as b using (brand);
insert into product_product
select id, id, sku, unit_weight_kg, jsonb_build_object('1', standard_cost), true,
       timestamp '2026-01-01'
from product;
-- The fee products: freight and expedite charged, restocking fees.
insert into product_template values
    (90001, '{"en_US": "Freight"}', null, 0, 'service', null, null),
    (90002, '{"en_US": "Expedite fee"}', null, 0, 'service', null, null),
    (90003, '{"en_US": "Restocking fee"}', null, 0, 'service', null, null);
insert into product_product values
    (90001, 90001, 'FREIGHT', 0, null, true, null),
    (90002, 90002, 'EXPEDITE', 0, null, true, null),
    (90003, 90003, 'RESTOCKING', 0, null, true, null);
create temp table currency as
select row_number() over (order by currency) as id, currency from
(select distinct currency from demo.invoices) as c;
insert into res_currency select id, currency from currency;
create temp table term as
select row_number() over (order by days) as id, days from
(select distinct payment_terms_days as days from demo.invoices) as t;
insert into account_payment_term select id, jsonb_build_object('en_US', days || ' days') from term;
insert into account_payment_term_line select id, id, 'percent', days from term;
insert into utm_medium values
    (1, 'Website'), (2, 'EDI'), (3, 'Phone'), (4, 'Email'), (5, 'Fax'), (6, 'Direct');
insert into delivery_carrier values
    (1, '{"en_US": "Standard delivery"}', 'fixed'), (2, '{"en_US": "Express"}', 'fixed'),
    (3, '{"en_US": "Pick up in store"}', 'fixed');
create temp table carrier as
select 10 + row_number() over (order by carrier) as id, carrier from
(select distinct carrier from demo.shipments where carrier is not null) as c;
insert into delivery_carrier select id, jsonb_build_object('en_US', carrier), 'base_on_rule'
from carrier;
create temp table invoice as
select row_number() over (order by invoice_id) as id, i.* from demo.invoices as i;
insert into sale_order
select i.id, 'S' || i.invoice_id, p.id, i.order_date, u.id,
       case i.order_channel when 'web' then 1 when 'edi' then 2 when 'phone' then 3
            when 'email' then 4 when 'fax' then 5 else 6 end,
       case i.ship_method when 'standard' then 1 when 'expedited' then 2 else 3 end, 'sale'
from invoice as i join partner as p using (customer_id)
left join rep as u on u.rep = i.sales_rep_id;
insert into account_move
select i.id, i.invoice_id, 'out_invoice', 'posted', p.id, i.invoice_date, i.invoice_date,
       u.id, t.id, c.id, 'S' || i.invoice_id, null, null, null, i.invoice_date, null
from invoice as i join partner as p using (customer_id)
left join rep as u on u.rep = i.sales_rep_id
join term as t on t.days = i.payment_terms_days join currency as c using (currency);
-- A vendor bill and a draft invoice: the mapping's filters keep them out.
insert into account_move (id, name, move_type, state, partner_id, invoice_date, currency_id)
values (900001, 'BILL/1', 'in_invoice', 'posted', 100000, date '2026-10-05', 1),
       (900002, '/', 'out_invoice', 'draft', 1, date '2026-10-06', 1);
create temp table line as
select row_number() over (order by invoice_id, line_number) as id, l.* from demo.invoice_lines as l;
insert into account_move_line
select l.id, i.id, l.line_number, p.id, l.quantity, l.unit_list_price,
       case when l.unit_list_price = 0 then 0
            else round(100 * (1 - l.unit_price / l.unit_list_price), 4) end,
       l.unit_price * l.quantity, -(l.unit_price * l.quantity), 'product', p.product_name,
       null, l.discount_code, l.warehouse_id, l.backordered
from line as l join invoice as i using (invoice_id) join product as p using (sku);
insert into account_move_line (id, move_id, sequence, product_id, quantity, price_unit,
    price_subtotal, balance, display_type, cogs_origin_id)
select 2000000 + l.id, i.id, 1000 + l.line_number, p.id, l.quantity, l.unit_cost,
       l.unit_cost * l.quantity, l.unit_cost * l.quantity, 'cogs', l.id
from line as l join invoice as i using (invoice_id) join product as p using (sku)
where l.unit_cost is not null
union all
select 3000000 + l.id, i.id, 1000 + l.line_number, p.id, l.quantity, l.unit_cost,
       -(l.unit_cost * l.quantity), -(l.unit_cost * l.quantity), 'cogs', l.id
from line as l join invoice as i using (invoice_id) join product as p using (sku)
where l.unit_cost is not null;
insert into account_move_line (id, move_id, sequence, product_id, quantity, price_unit,
    price_subtotal, balance, display_type)
select 4000000 + i.id, i.id, 9001, 90001, 1, i.freight_charged, i.freight_charged,
       -i.freight_charged, 'product'
from invoice as i where i.freight_charged <> 0
union all
select 5000000 + i.id, i.id, 9002, 90002, 1, i.expedite_charged, i.expedite_charged,
       -i.expedite_charged, 'product'
from invoice as i where i.expedite_charged <> 0;
-- Each goods line comes from a sale order line; a credit note's line points at it too.
insert into sale_order_line
select l.id, i.id, l.line_number, p.id, l.quantity
from line as l join invoice as i using (invoice_id) join product as p using (sku);
insert into sale_order_line_invoice_rel select id, id from line;
-- The invoice's receivable line, which payments are reconciled with.
insert into account_move_line (id, move_id, sequence, balance, display_type)
select 6000000 + i.id, i.id, 9999, 0, 'payment_term' from invoice as i;
create temp table refund as
select row_number() over (order by return_id) as id, r.* from demo.returns as r;
insert into account_move
select 700000 + r.id, r.return_id, 'out_refund', 'posted', i.partner_id, r.return_date,
       r.return_date, null, null, i.currency_id, null, i.id,
       'Reversal of: ' || r.invoice_id || ', ' || coalesce(r.reason_code, ''), null,
       r.return_date, r.disposition
from refund as r join account_move as i on i.name = r.invoice_id and i.move_type = 'out_invoice';
insert into account_move_line (id, move_id, sequence, product_id, quantity, price_unit,
    price_subtotal, balance, display_type)
select 7000000 + r.id, 700000 + r.id, 1, l.product_id, r.quantity,
       r.credit_amount / r.quantity, r.credit_amount, r.credit_amount, 'product'
from refund as r join account_move as i on i.name = r.invoice_id and i.move_type = 'out_invoice'
join account_move_line as l
    on l.move_id = i.id and l.sequence = r.line_number and l.display_type = 'product'
union all
select 8000000 + r.id, 700000 + r.id, 2, 90003, 1, -r.restocking_fee_charged,
       -r.restocking_fee_charged, -r.restocking_fee_charged, 'product'
from refund as r where r.restocking_fee_charged <> 0;
insert into sale_order_line_invoice_rel
select 7000000 + r.id, l.id
from refund as r join account_move as i on i.name = r.invoice_id and i.move_type = 'out_invoice'
join account_move_line as l
    on l.move_id = i.id and l.sequence = r.line_number and l.display_type = 'product';
create temp table paid as
select row_number() over (order by payment_id) as id, p.* from demo.payments as p;
insert into account_payment
select p.id, p.payment_id, i.partner_id, p.payment_date, p.amount, 'inbound', 'customer'
from paid as p join account_move as i on i.name = p.invoice_id and i.move_type = 'out_invoice'
where p.kind = 'payment';
-- A payment's journal entry points at it; a write-off is an entry of its own.
insert into account_move (id, name, move_type, state, partner_id, date, payment_id)
select 800000 + p.id, p.payment_id, 'entry', 'posted', i.partner_id, p.payment_date,
       case when p.kind = 'payment' then p.id end
from paid as p join account_move as i on i.name = p.invoice_id and i.move_type = 'out_invoice';
insert into account_move_line (id, move_id, sequence, balance, display_type)
select 9000000 + p.id, 800000 + p.id, 1, -p.amount, 'product' from paid as p;
insert into account_partial_reconcile
select p.id, 6000000 + i.id, 9000000 + p.id, p.amount, p.payment_date
from paid as p join account_move as i on i.name = p.invoice_id and i.move_type = 'out_invoice';
insert into stock_picking_type values (1, 'outgoing'), (2, 'incoming');
insert into stock_picking
select row_number() over (order by s.shipment_id), s.shipment_id, 1, so.id, c.id, s.ship_date,
       s.weight_kg, s.freight_cost, 'done'
from demo.shipments as s join sale_order as so on so.name = 'S' || s.invoice_id
left join carrier as c using (carrier);
"""

# What Odoo does not hold: the finance team's files beside the database (docs/sources.md).
ODOO_FILE_TABLES = (
    "cost_pools",
    "gl_summary",
    "service_contacts",
    "sales_activities",
    "policy_overrides",
)


def load_odoo_tables(dsn: str, landing: Path) -> None:
    """The demo company in Odoo's tables: the contract tables go to the schema `demo`,
    which Odoo's tables are then filled from, and the schema is dropped."""
    import psycopg2

    with psycopg2.connect(dsn) as con, con.cursor() as cursor:
        cursor.execute("create schema demo")
    with adbc.connect(dsn) as connection, connection.cursor() as cursor:
        for table in LOAD_ORDER:
            cursor.adbc_ingest(
                table, contract_table(landing, table), mode="create", db_schema_name="demo"
            )
        connection.commit()
    with psycopg2.connect(dsn) as con, con.cursor() as cursor:
        cursor.execute(ODOO_TABLES)
        cursor.execute(ODOO_FROM_DEMO)
        cursor.execute("drop schema demo cascade")
