-- Every version of every order: what the shop said about it at each updated_at. The features of
-- a past cutoff read the version current then, not today's status (ML never sees the future).
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
        customer_id,
        order_status,
        {{ money('discounted_amount') }} as discounted_amount,
        {{ money('total_amount') }} as total_amount,
        order_status not in ('Canceled', 'Returned') as is_counted,
        order_date as ordered_at,
        updated_at
    from versions
)

select * from renamed
