-- Every verification of every dataset: one row each, scores on 0-100.
with

source as (
    select * from {{ source('quality', 'dataset_scores') }}
),

renamed as (
    select
        verification_id,
        run_id,
        dataset,
        blocking_checks_failed,
        score,
        completeness_score,
        accuracy_score,
        consistency_score,
        timeliness_score,
        uniqueness_score,
        validity_score,
        min_score,
        checks_total,
        checks_failed,
        blocking_failed,
        score < min_score as is_below_min_score,
        verified_at
    from source
)

select * from renamed
