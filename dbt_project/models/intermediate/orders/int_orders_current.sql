{{ config(materialized=current_state_materialization()) }}
-- The current state of each order: its latest version. _loaded_at is when any version of the order
-- last arrived, so an order whose status changed is taken in again by the incremental models.
with

versions as (
    select
        *,
        max(_loaded_at) over (partition by order_id) as last_loaded_at
    from {{ ref('stg_shop__order_versions') }}
),

latest as (
    {{ latest_version('versions', 'order_id', 'updated_at desc') }}
)

select
    order_id,
    {{ shop_order_columns() }}
    discounted_amount,
    shipping_amount,
    total_amount,
    is_counted,
    ordered_at,
    delivered_at,
    updated_at,
    last_loaded_at as _loaded_at
from latest
