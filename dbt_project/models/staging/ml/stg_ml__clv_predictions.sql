-- The lifetime-value champion's predictions, as the Dagster scoring asset last wrote them (one row per buyer).
with

source as (
    select * from {{ source('ml', 'clv_predictions') }}
),

renamed as (
    select
        customer_id,
        predicted_clv,
        horizon_days,
        model_name,
        model_version,
        cutoff_date,
        scored_at
    from source
)

select * from renamed
