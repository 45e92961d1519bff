-- Orders in their current state, with their number of lines.
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

line_counts as (
    select
        order_id,
        count(*) as line_items_count
    from {{ ref('stg_shop__order_line_items') }}
    group by order_id
),

final as (
    select
        orders.*,
        coalesce(line_counts.line_items_count, 0) as line_items_count
    from orders
    left join line_counts on orders.order_id = line_counts.order_id
)

select * from final
