-- What audience rules (dbt_project/audiences.yml) can test: every customer_360 column plus recent
-- activity, all relative to C360_AS_OF_DATE. One row per customer.
with

profiles as (
    select * from {{ ref('customer_360') }}
),

spend as (
    select
        customer_id,
        percent_rank() over (order by total_order_value) as spend_percentile
    from profiles
    where orders_count > 0
),

recent_orders as (
    select
        customer_id,
        count(*) as orders_90d,
        sum(total_amount) as revenue_90d
    from {{ ref('orders') }}
    where
        is_counted
        and cast(ordered_at as date) > {{ as_of_date() }} - 90
        and cast(ordered_at as date) <= {{ as_of_date() }}
    group by customer_id
),

recent_sessions as (
    select
        customer_id,
        sum(case when is_cart_abandoned then 1 else 0 end) as abandoned_carts_90d,
        sum(case when cart_adds_count > 0 then 1 else 0 end) as cart_sessions_90d
    from {{ ref('web_sessions') }}
    where
        customer_id is not null
        and cast(session_started_at as date) > {{ as_of_date() }} - 90
        and cast(session_started_at as date) <= {{ as_of_date() }}
    group by customer_id
),

-- baby & maternity interest: views, favourites, cart adds and purchased lines, by period
baby_activity as (
    select
        entity_id as customer_id,
        cast(activity_ts as date) as activity_date
    from {{ ref('product_views') }}
    where category_name = 'Baby & Maternity'
    union all
    select
        entity_id as customer_id,
        cast(activity_ts as date) as activity_date
    from {{ ref('favorites') }}
    where category_name = 'Baby & Maternity'
    union all
    select
        entity_id as customer_id,
        cast(activity_ts as date) as activity_date
    from {{ ref('cart_adds') }}
    where category_name = 'Baby & Maternity'
    union all
    select
        customer_id,
        cast(ordered_at as date) as activity_date
    from {{ ref('orders_enriched') }}
    where product_category = 'Baby & Maternity'
),

baby as (
    select
        customer_id,
        sum(case when activity_date > {{ as_of_date() }} - 60 then 1 else 0 end) as baby_activity_60d,
        sum(case when activity_date <= {{ as_of_date() }} - 60 then 1 else 0 end) as baby_activity_before_60d
    from baby_activity
    where customer_id is not null and activity_date <= {{ as_of_date() }}
    group by customer_id
),

final as (
    select
        profiles.*,
        spend.spend_percentile,
        coalesce(recent_orders.orders_90d, 0) as orders_90d,
        coalesce(recent_orders.revenue_90d, 0) as revenue_90d,
        coalesce(recent_sessions.abandoned_carts_90d, 0) as abandoned_carts_90d,
        coalesce(recent_sessions.cart_sessions_90d, 0) as cart_sessions_90d,
        coalesce(baby.baby_activity_60d, 0) as baby_activity_60d,
        coalesce(baby.baby_activity_before_60d, 0) as baby_activity_before_60d
    from profiles
    left join spend on profiles.customer_id = spend.customer_id
    left join recent_orders on profiles.customer_id = recent_orders.customer_id
    left join recent_sessions on profiles.customer_id = recent_sessions.customer_id
    left join baby on profiles.customer_id = baby.customer_id
)

select * from final
