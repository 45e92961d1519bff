-- What happened in the horizon after each past cutoff whose horizon has ended by as_of_date:
-- churned (a buyer with no counted order in the window, CONTRACT.md) and the revenue of its
-- counted orders (the CLV label). Orders are judged by their current status.
with

cutoffs as (
    select * from {{ ref('ml_cutoffs') }}
    where {{ dbt.dateadd('day', 'horizon_days', 'cutoff_date') }} <= {{ as_of_date() }}
),

features as (
    select * from {{ ref('customer_features') }}
),

orders as (
    select * from {{ ref('int_orders_current') }}
    where is_counted
),

future as (
    select
        cutoffs.cutoff_date,
        orders.customer_id,
        count(*) as future_orders,
        {{ exact_sum('orders.total_amount') }} as future_revenue
    from cutoffs
    inner join orders
        on
            orders.ordered_at >= cutoffs.cutoff_at
            and orders.ordered_at < {{ dbt.dateadd('day', 'cutoffs.horizon_days', 'cutoffs.cutoff_at') }}
    group by cutoffs.cutoff_date, orders.customer_id
),

final as (
    select
        features.customer_id,
        case when features.is_buyer then coalesce(future.future_orders, 0) = 0 end as is_churned,
        coalesce(future.future_orders, 0) as future_orders,
        coalesce(future.future_revenue, 0) as future_revenue,
        features.cutoff_date
    from features
    inner join cutoffs on features.cutoff_date = cutoffs.cutoff_date
    left join future on features.cutoff_date = future.cutoff_date and features.customer_id = future.customer_id
)

select * from final
