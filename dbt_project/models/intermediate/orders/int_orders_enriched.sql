-- Each line item with its order's current state, product, brand and payment.
with

line_items as (
    select * from {{ ref('stg_shop__order_line_items') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

products as (
    select * from {{ ref('stg_catalog__products') }}
),

brands as (
    select * from {{ ref('stg_catalog__brands') }}
),

payments as (
    select * from {{ ref('stg_payments__transactions') }}
),

joined as (
    select
        line_items.order_li_id,
        line_items.order_id,
        orders.customer_id,
        line_items.product_id,
        products.sku_id,
        products.brand_id,
        orders.transaction_id,
        products.product_name,
        products.product_category,
        products.product_subcategory,
        brands.brand_name,
        brands.parent_company,
        orders.order_status,
        orders.payment_method,
        line_items.quantity,
        line_items.unit_price,
        line_items.line_amount,
        orders.discounted_amount as order_discounted_amount,
        orders.shipping_amount as order_shipping_amount,
        orders.total_amount as order_total_amount,
        payments.amount as payment_amount,
        orders.is_counted,
        orders.ordered_at,
        orders.delivered_at,
        payments.transacted_at as paid_at
    from line_items
    inner join orders on line_items.order_id = orders.order_id
    left join products on line_items.product_id = products.product_id
    left join brands on products.brand_id = brands.brand_id
    left join payments on orders.transaction_id = payments.transaction_id
)

select * from joined
