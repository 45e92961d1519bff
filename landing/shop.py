"""The shop database's own tables (PostgreSQL): the live form of the orders, order lines and payments that
landing/shop/ carries as files. The orders sensor pulls from them (orchestration/lib/shop.py); the simulator's
live shop writes them (simulator/live_shop.py), as a real shop would."""

SHOP_DDL = """
create schema if not exists shop;
create table if not exists shop.orders (
    order_id varchar primary key, customer_id varchar not null, order_date timestamp not null,
    order_status varchar not null, order_delivery_date timestamp, discounted_amount double precision,
    shipping_amount double precision, total_amount double precision, payment_method varchar,
    billing_address varchar, shipping_address varchar, transaction_id varchar,
    updated_at timestamp not null
);
create index if not exists orders_changes on shop.orders (updated_at, order_id);
create table if not exists shop.order_line_items (
    order_li_id varchar primary key, order_id varchar not null references shop.orders,
    product_id varchar not null, qty integer not null, unit_price double precision not null,
    updated_at timestamp not null
);
create index if not exists order_line_items_changes on shop.order_line_items (updated_at, order_li_id);
create table if not exists shop.transactions (
    transaction_id varchar primary key, order_id varchar not null, amount double precision not null,
    payment_method varchar, transaction_ts timestamp not null, updated_at timestamp not null
);
create index if not exists transactions_changes on shop.transactions (updated_at, transaction_id);
"""
