-- Every contract check of every verification.
with

source as (
    select * from {{ source('quality', 'check_results') }}
),

renamed as (
    select
        verification_id,
        run_id,
        dataset,
        check_name,
        description as check_description,
        check_type,
        columns as checked_columns,
        dimension,
        severity,
        spec,
        outcome,
        diagnostics,
        value as check_value,
        failed_rows,
        rows_tested,
        check_score,
        outcome = 'passed' as is_passed,
        verified_at
    from source
)

select * from renamed
