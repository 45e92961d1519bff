{{ incremental_config('order_id') }}
-- Orders in their current state, with their number of lines. Incremental: a run rebuilds the
-- orders that got a new version or new lines since the last run.
with

changed as (
    select order_id from {{ ref('int_orders_current') }}
    {% if is_incremental() %}
        where _loaded_at > {{ watermark() }}
        union
        select order_id from {{ ref('stg_shop__order_line_items') }}
        where _loaded_at > {{ watermark() }}
    {% endif %}
),

orders as (
    select current_orders.*
    from {{ ref('int_orders_current') }} as current_orders
    where current_orders.order_id in (select changed.order_id from changed)
),

line_counts as (
    select
        lines.order_id,
        count(*) as line_items_count,
        max(lines._loaded_at) as _loaded_at
    from {{ ref('stg_shop__order_line_items') }} as lines
    where lines.order_id in (select changed.order_id from changed)
    group by lines.order_id
),

final as (
    select
        orders.order_id,
        orders.customer_id,
        orders.transaction_id,
        orders.order_status,
        orders.payment_method,
        orders.billing_address,
        orders.shipping_address,
        orders.discounted_amount,
        orders.shipping_amount,
        orders.total_amount,
        orders.is_counted,
        orders.ordered_at,
        orders.delivered_at,
        orders.updated_at,
        coalesce(line_counts.line_items_count, 0) as line_items_count,
        greatest(orders._loaded_at, line_counts._loaded_at) as _loaded_at
    from orders
    left join line_counts on orders.order_id = line_counts.order_id
)

select * from final
