-- The anomaly champion's verdict on each order of the last 90 days, as the Dagster scoring asset last wrote
-- it (its payments' rows, which repeat the order's, are left out).
with

source as (
    select * from {{ source('ml', 'transaction_anomalies') }}
),

orders as (
    select
        order_id,
        customer_id,
        occurred_at as ordered_at,
        amount as total_amount,
        anomaly_score,
        is_anomaly,
        reasons as anomaly_reasons,
        model_name,
        model_version,
        cutoff_date,
        scored_at
    from source
    where record_type = 'order'
)

select * from orders
