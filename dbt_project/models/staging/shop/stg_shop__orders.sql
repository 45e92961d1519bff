-- One record per order version; the latest updated_at is the order's current state.
-- _loaded_at is when any version of the order last arrived (incremental models key on it).
with

source as (
    select
        *,
        max(_loaded_at) over (partition by order_id) as last_loaded_at
    from {{ source('shop', 'orders') }}
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
        {{ money('discounted_amount') }} as discounted_amount,
        {{ money('shipping_amount') }} as shipping_amount,
        {{ money('total_amount') }} as total_amount,
        order_status not in ('Canceled', 'Returned') as is_counted,
        order_date as ordered_at,
        order_delivery_date as delivered_at,
        updated_at,
        last_loaded_at as _loaded_at
    from latest
)

select * from renamed
