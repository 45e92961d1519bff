-- Every version of every order: what the shop said about it at each updated_at. The current state of
-- each order is its latest version (int_orders_current); the features of a past cutoff read the
-- version current then, not today's status (ML never sees the future).
-- Two records of one order with the same updated_at are one version (the later file wins).
with

source as (
    select * from {{ source('shop', 'orders') }}
),

versions as (
    {{ latest_version('source', 'order_id, updated_at', '_source_file desc, _line desc') }}
),

renamed as (
    select
        order_id,
        {{ shop_order_columns() }}
        {{ money('discounted_amount') }} as discounted_amount,
        {{ money('shipping_amount') }} as shipping_amount,
        {{ money('total_amount') }} as total_amount,
        order_status not in ('Canceled', 'Returned') as is_counted,
        order_date as ordered_at,
        order_delivery_date as delivered_at,
        updated_at,
        _loaded_at
    from versions
)

select * from renamed
