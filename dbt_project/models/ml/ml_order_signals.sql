-- Every order as its current version, with what a fraud analyst looks at: the customer's earlier orders
-- (how many, the mean and spread of their totals), the customer's orders and payment-method changes within
-- an hour and a day either side of it (a burst is seen whole), its lines, and whether it ships elsewhere
-- than it bills. The anomaly detector's input (ml/anomaly.py, docs/ml.md "Anomalies").
with

orders as (
    select * from {{ ref('int_orders_current') }}
),

lines as (
    select
        order_id,
        count(*) as line_items,
        sum(quantity) as units
    from {{ ref('stg_shop__order_line_items') }}
    group by order_id
),

sequenced as (
    select
        orders.order_id,
        orders.customer_id,
        orders.transaction_id,
        orders.ordered_at,
        orders.payment_method,
        orders.order_status,
        cast(orders.total_amount as {{ type_double() }}) as total_amount,
        coalesce(lines.line_items, 0) as line_items,
        coalesce(lines.units, 0) as units,
        orders.billing_address <> orders.shipping_address as ships_elsewhere,
        count(*) over earlier as prior_orders,
        avg(cast(orders.total_amount as {{ type_double() }})) over earlier as prior_mean_amount,
        stddev_samp(cast(orders.total_amount as {{ type_double() }})) over earlier as prior_std_amount,
        case
            when lag(orders.payment_method) over by_customer <> orders.payment_method then 1 else 0
        end as method_changed
    from orders
    left join lines on orders.order_id = lines.order_id
    window
        by_customer as (partition by orders.customer_id order by orders.ordered_at, orders.order_id),
        earlier as (
            partition by orders.customer_id order by orders.ordered_at, orders.order_id
            rows between unbounded preceding and 1 preceding
        )
),

final as (
    select
        *,
        count(*) over within_hour as orders_within_hour,
        count(*) over within_day as orders_within_day,
        sum(method_changed) over within_day as method_changes_within_day
    from sequenced
    window
        within_hour as (
            partition by customer_id order by ordered_at
            range between interval '1 hour' preceding and interval '1 hour' following
        ),
        within_day as (
            partition by customer_id order by ordered_at
            range between interval '1 day' preceding and interval '1 day' following
        )
)

select * from final
