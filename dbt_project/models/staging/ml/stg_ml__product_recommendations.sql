-- The recommender champion's top 10 per customer, as the Dagster scoring asset last wrote them.
with

source as (
    select * from {{ source('ml', 'product_recommendations') }}
),

renamed as (
    select
        customer_id,
        recommendation_rank,
        product_id,
        score as recommendation_score,
        reason as recommendation_reason,
        model_name,
        model_version,
        cutoff_date,
        scored_at
    from source
)

select * from renamed
