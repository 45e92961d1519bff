-- Order totals per customer over counted orders (latest status not Canceled or Returned).
with

orders as (
    select * from {{ ref('int_orders_current') }}
),

aggregated as (
    select
        customer_id,
        cast(count(*) as bigint) as orders_count,
        cast(sum(total_amount) as decimal(38, 2)) as total_order_value,  -- exact: amounts are decimals
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at
    from orders
    where is_counted
    group by customer_id
),

final as (
    select
        customer_id,
        orders_count,
        total_order_value,
        cast(total_order_value as {{ type_double() }}) / orders_count as avg_order_value,
        cast({{ dbt.datediff('cast(last_order_at as date)', as_of_date(), 'day') }} as integer) as recency_days,
        first_order_at,
        last_order_at
    from aggregated
)

select * from final
