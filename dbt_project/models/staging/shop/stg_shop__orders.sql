-- One record per order version; the latest updated_at is the order's current state.
with

source as (
    select * from {{ source('shop', 'orders') }}
),

latest as (
    {{ latest_version('source', 'order_id', 'updated_at desc, _source_file desc, _line desc') }}
),

renamed as (
    select
        order_id,
        customer_id,
        transaction_id,
        order_status,
        payment_method,
        billing_address,
        shipping_address,
        discounted_amount,
        shipping_amount,
        total_amount,
        order_status not in ('Canceled', 'Returned') as is_counted,
        order_date as ordered_at,
        order_delivery_date as delivered_at,
        updated_at
    from latest
)

select * from renamed
