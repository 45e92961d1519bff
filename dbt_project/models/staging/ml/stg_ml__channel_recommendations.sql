-- The next-best-channel champion's choice per customer, as the Dagster scoring asset last wrote it.
with

source as (
    select * from {{ source('ml', 'channel_recommendations') }}
),

renamed as (
    select
        customer_id,
        next_best_channel,
        purchase_probability_30d as next_best_channel_probability,
        visit_conversion_rate,
        visits_through_channel,
        reason as next_best_channel_reason,
        model_name,
        model_version,
        cutoff_date,
        scored_at
    from source
)

select * from renamed
