-- What each customer did with each product, for the recommender (ml/recommend.py): every counted order
-- line as a purchase, and every product view, favourite and cart add of a signed-in visitor, with when.
-- Python cuts it at a cutoff (event_at before it); an order's status is its current one.
with

lines as (
    select * from {{ ref('int_orders_enriched') }}
),

web_events as (
    select * from {{ ref('stg_web__events') }}
),

products as (
    select * from {{ ref('int_products_current') }}
),

purchases as (
    select
        customer_id,
        product_id,
        'purchase' as event_action,
        order_id,
        ordered_at as event_at
    from lines
    where is_counted
),

browsing as (
    select
        web_events.customer_id,
        products.product_id,
        web_events.event_action,
        cast(null as {{ type_text() }}) as order_id,
        web_events.activity_at as event_at
    from web_events
    inner join products on web_events.product_sku = products.sku_id
    where
        web_events.customer_id is not null
        and web_events.event_action in ('product_view', 'add_to_favorite', 'add_to_cart')
)

select * from purchases
union all
select * from browsing
