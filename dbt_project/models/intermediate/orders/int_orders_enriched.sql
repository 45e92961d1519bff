{{ incremental_config('order_li_id') }}
-- Each line item with its order's current state, the product and brand as they were when the
-- order was placed, the customer's record at that time, and the payment. An order placed before
-- the first known version (a guest checkout before registering) takes that first version.
-- Incremental: a run rebuilds the lines of orders whose order, lines or payment arrived since
-- the last run, and of orders placed under a customer or product version that arrived since.
with

orders as (
    select * from {{ ref('int_orders_current') }}
),

-- the staging views rank their versions over the whole table: each is read once here (DuckDB keeps a CTE
-- read twice; a second reference to the view would rank them all again, 1-2 s each at 1M customers)
all_line_items as (
    select * from {{ ref('stg_shop__order_line_items') }}
),

payments as (
    select * from {{ ref('stg_payments__transactions') }}
),

{% if is_incremental() %}
    changed_customers as (
        select
            history.customer_id,
            min(history.valid_from) as changed_from
        from {{ ref('customers_history') }} as history
        where history._loaded_at > {{ watermark() }}
        group by history.customer_id
    ),

    changed_products as (
        select
            history.product_id,
            min(history.valid_from) as changed_from
        from {{ ref('products_history') }} as history
        where history._loaded_at > {{ watermark() }}
        group by history.product_id
    ),

    -- every order to rebuild, as one set of ids (equality joins only: hash joins on both engines)
    changed_orders as (
        select changed.order_id from {{ ref('int_orders_current') }} as changed
        where changed._loaded_at > {{ watermark() }}
        union
        select changed.order_id from all_line_items as changed
        where changed._loaded_at > {{ watermark() }}
        union
        select changed.order_id from payments as changed
        where changed._loaded_at > {{ watermark() }}
        union
        select orders.order_id
        from orders
        inner join changed_customers on orders.customer_id = changed_customers.customer_id
        where orders.ordered_at >= changed_customers.changed_from
        union
        select lines.order_id
        from all_line_items as lines
        inner join orders on lines.order_id = orders.order_id
        inner join changed_products on lines.product_id = changed_products.product_id
        where orders.ordered_at >= changed_products.changed_from
    ),
{% endif %}

line_items as (
    select lines.*
    from all_line_items as lines
    {% if is_incremental() %}
        where lines.order_id in (select changed_orders.order_id from changed_orders)
    {% endif %}
),

products as (
    select * from {{ ref('products_history') }}
),

customers as (
    select * from {{ ref('customers_history') }}
),

brands as (
    select * from {{ ref('stg_catalog__brands') }}
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
        products.list_price as product_list_price,
        products.sale_price as product_sale_price,
        customers.first_name as customer_first_name,
        customers.last_name as customer_last_name,
        customers.mailing_street as customer_street,
        customers.city as customer_city,
        customers.state as customer_state,
        customers.zipcode as customer_zipcode,
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
        payments.transacted_at as paid_at,
        greatest(
            orders._loaded_at, line_items._loaded_at, payments._loaded_at, products._loaded_at, customers._loaded_at
        ) as _loaded_at
    from line_items
    inner join orders on line_items.order_id = orders.order_id
    left join products
        on
            line_items.product_id = products.product_id
            and (orders.ordered_at >= products.valid_from or products.version_number = 1)
            and (orders.ordered_at < products.valid_to or products.valid_to is null)
    left join customers
        on
            orders.customer_id = customers.customer_id
            and (orders.ordered_at >= customers.valid_from or customers.version_number = 1)
            and (orders.ordered_at < customers.valid_to or customers.valid_to is null)
    left join brands on products.brand_id = brands.brand_id
    left join payments on orders.transaction_id = payments.transaction_id
)

select * from joined
