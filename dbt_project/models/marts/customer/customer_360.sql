-- The wide profile: one row per CRM customer with orders, RFM, web engagement, preferences and the
-- champion models' predictions (null for a customer the last scoring did not cover).
with

customers as (
    select * from {{ ref('customers') }}
),

orders as (
    select * from {{ ref('int_customer_orders_aggregated') }}
),

rfm as (
    select * from {{ ref('customer_rfm') }}
),

activity as (
    select * from {{ ref('int_customer_activity_aggregated') }}
),

preferences as (
    select * from {{ ref('int_customer_preferences') }}
),

churn as (
    select * from {{ ref('stg_ml__churn_predictions') }}
),

clv as (
    select * from {{ ref('stg_ml__clv_predictions') }}
),

clusters as (
    select * from {{ ref('stg_ml__customer_clusters') }}
),

channels as (
    select * from {{ ref('stg_ml__channel_recommendations') }}
),

anomalies as (
    select
        customer_id,
        max(case when is_anomaly then 1 else 0 end) = 1 as anomaly_flag_90d
    from {{ ref('stg_ml__order_anomalies') }}
    group by customer_id
),

recommendations as (
    select
        customer_id,
        {{ json_list('product_id', 'recommendation_rank') }} as top_recommendations
    from {{ ref('stg_ml__product_recommendations') }}
    group by customer_id
),

final as (
    select
        customers.*,
        coalesce(orders.orders_count, 0) as orders_count,
        coalesce(orders.total_order_value, cast(0 as decimal(38, 2))) as total_order_value,
        orders.avg_order_value,
        orders.first_order_at,
        orders.last_order_at,
        orders.recency_days,
        rfm.rfm_recency_score,
        rfm.rfm_frequency_score,
        rfm.rfm_monetary_score,
        rfm.rfm_segment,
        coalesce(activity.sessions_count, 0) as sessions_count,
        coalesce(activity.product_views_count, 0) as product_views_count,
        coalesce(activity.favorites_count, 0) as favorites_count,
        coalesce(activity.cart_adds_count, 0) as cart_adds_count,
        activity.cart_abandonment_rate,
        coalesce(activity.engagement_minutes, 0) as engagement_minutes,
        cast({{ dbt.datediff('cast(activity.last_activity_at as date)', as_of_date(), 'day') }} as integer)
            as days_since_last_activity,
        activity.preferred_channel,
        preferences.preferred_category,
        preferences.preferred_brand,
        churn.churn_probability,
        churn.churn_risk_band,
        clv.predicted_clv,
        clusters.cluster_id,
        clusters.cluster_name,
        recommendations.top_recommendations,
        anomalies.anomaly_flag_90d,
        channels.next_best_channel,
        channels.next_best_channel_probability
    from customers
    left join orders on customers.customer_id = orders.customer_id
    left join rfm on customers.customer_id = rfm.customer_id
    left join activity on customers.customer_id = activity.customer_id
    left join preferences on customers.customer_id = preferences.customer_id
    left join churn on customers.customer_id = churn.customer_id
    left join clv on customers.customer_id = clv.customer_id
    left join clusters on customers.customer_id = clusters.customer_id
    left join recommendations on customers.customer_id = recommendations.customer_id
    left join anomalies on customers.customer_id = anomalies.customer_id
    left join channels on customers.customer_id = channels.customer_id
)

select * from final
