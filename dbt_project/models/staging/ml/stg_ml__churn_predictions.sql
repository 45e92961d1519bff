-- The churn champion's predictions, as the Dagster scoring asset last wrote them (one row per buyer).
with

source as (
    select * from {{ source('ml', 'churn_predictions') }}
),

renamed as (
    select
        customer_id,
        churn_probability,
        churn_risk_band,
        reason_1,
        reason_2,
        reason_3,
        model_name,
        model_version,
        cutoff_date,
        scored_at
    from source
)

select * from renamed
