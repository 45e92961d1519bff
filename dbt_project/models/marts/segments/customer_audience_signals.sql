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
        product_sku as product_key,
        category_name,
        cast(activity_ts as date) as activity_date,
        activity_ts as activity_at
    from {{ ref('product_views') }}
    union all
    select
        entity_id as customer_id,
        product_sku as product_key,
        category_name,
        cast(activity_ts as date) as activity_date,
        activity_ts as activity_at
    from {{ ref('favorites') }}
    union all
    select
        entity_id as customer_id,
        product_sku as product_key,
        category_name,
        cast(activity_ts as date) as activity_date,
        activity_ts as activity_at
    from {{ ref('cart_adds') }}
    union all
    select
        customer_id,
        sku_id as product_key,
        product_category as category_name,
        cast(ordered_at as date) as activity_date,
        ordered_at as activity_at
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

-- A shift of interest to Baby & Maternity: a CUSUM over each customer's product interest of the last 180
-- days, in time order, of the log-likelihood ratio of "60% of it is baby" against "a twentieth is" (a baby
-- interest adds ln 12, another one ln(0.4 / 0.95)). Its value now is the evidence of the latest run of baby
-- interest, however recent; a long average dilutes a change that began weeks ago. A product counts once a
-- day (its view, favourite, cart add and purchase are one interest, not four), so that one product looked
-- at closely is not read as a run.
-- CUSUM(now) = S - min(0, min over k of S_k), with S_k the running sum and S the total.
distinct_interest as (
    select
        customer_id,
        product_key,
        activity_date,
        min(category_name) as category_name,
        min(activity_at) as activity_at
    from interest
    where
        customer_id is not null
        and activity_date > {{ as_of_date() }} - 180
        and activity_date <= {{ as_of_date() }}
    group by customer_id, product_key, activity_date
),

interest_llr as (
    select
        customer_id,
        activity_at,
        category_name,
        case
            when category_name = 'Baby & Maternity' then ln(cast(0.6 as {{ type_double() }}) / 0.05)
            else ln(cast(0.4 as {{ type_double() }}) / 0.95)
        end as llr
    from distinct_interest
),

interest_steps as (
    select
        customer_id,
        llr,
        sum(llr) over (
            partition by customer_id order by activity_at, category_name, llr
            rows between unbounded preceding and current row
        ) as running_llr
    from interest_llr
),

baby_shift as (
    select
        customer_id,
        cast(sum(llr) - least(0, min(running_llr)) as {{ type_double() }}) as baby_interest_shift
    from interest_steps
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
        cast(baby.baby_interest_180d as {{ type_double() }}) / baby.interest_180d as baby_share_180d,
        coalesce(baby_shift.baby_interest_shift, 0) as baby_interest_shift
    from profiles
    left join spend on profiles.customer_id = spend.customer_id
    left join recent_orders on profiles.customer_id = recent_orders.customer_id
    left join recent_sessions on profiles.customer_id = recent_sessions.customer_id
    left join baby on profiles.customer_id = baby.customer_id
    left join baby_shift on profiles.customer_id = baby_shift.customer_id
)

select * from final
