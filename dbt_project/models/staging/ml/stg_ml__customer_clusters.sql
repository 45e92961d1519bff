-- The cluster champion's assignments, as the Dagster scoring asset last wrote them (one row per buyer).
with

source as (
    select * from {{ source('ml', 'customer_clusters') }}
),

renamed as (
    select
        customer_id,
        cluster_id,
        cluster_name,
        model_name,
        model_version,
        cutoff_date,
        scored_at
    from source
)

select * from renamed
