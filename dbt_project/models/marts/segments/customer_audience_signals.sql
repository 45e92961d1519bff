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
        cast(sum(case when is_cart_abandoned then 1 else 0 end) as bigint) as abandoned_carts_90d,
        cast(sum(case when cart_adds_count > 0 then 1 else 0 end) as bigint) as cart_sessions_90d
    from {{ ref('web_sessions') }}
    where
        customer_id is not null
        and cast(session_started_at as date) > {{ as_of_date() }} - 90
        and cast(session_started_at as date) <= {{ as_of_date() }}
    group by customer_id
),

-- product interest: views, favourites, cart adds and purchased lines, Baby & Maternity or not
interest as (
    select
        entity_id as customer_id,
        category_name,
        cast(activity_ts as date) as activity_date
    from {{ ref('product_views') }}
    union all
    select
        entity_id as customer_id,
        category_name,
        cast(activity_ts as date) as activity_date
    from {{ ref('favorites') }}
    union all
    select
        entity_id as customer_id,
        category_name,
        cast(activity_ts as date) as activity_date
    from {{ ref('cart_adds') }}
    union all
    select
        customer_id,
        product_category as category_name,
        cast(ordered_at as date) as activity_date
    from {{ ref('orders_enriched') }}
),

baby as (
    select
        customer_id,
        count(*) as interest_180d,
        cast(sum(case when category_name = 'Baby & Maternity' then 1 else 0 end) as bigint) as baby_interest_180d
    from interest
    where
        customer_id is not null
        and activity_date > {{ as_of_date() }} - 180
        and activity_date <= {{ as_of_date() }}
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
        coalesce(baby.interest_180d, 0) as interest_180d,
        coalesce(baby.baby_interest_180d, 0) as baby_interest_180d,
        cast(baby.baby_interest_180d as double precision) / baby.interest_180d as baby_share_180d
    from profiles
    left join spend on profiles.customer_id = spend.customer_id
    left join recent_orders on profiles.customer_id = recent_orders.customer_id
    left join recent_sessions on profiles.customer_id = recent_sessions.customer_id
    left join baby on profiles.customer_id = baby.customer_id
)

select * from final
