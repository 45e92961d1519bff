{{ config(materialized='view') }}
-- The analyst's view of data quality: one row per dataset with its latest score, the trend over
-- its last 30 verifications, and its worst checks in the latest one. A view, so it is always current.
with

scores as (
    select * from {{ ref('stg_quality__dataset_scores') }}
),

checks as (
    select * from {{ ref('stg_quality__check_results') }}
),

ranked as (
    select
        scores.*,
        row_number() over (partition by scores.dataset order by scores.verified_at desc) as recency
    from scores
),

latest as (
    select * from ranked
    where recency = 1
),

trend as (
    select
        dataset,
        count(*) as verifications_in_trend,
        avg(score) as avg_score_30,
        min(score) as min_score_30,
        max(case when recency = 2 then score end) as previous_score,
        max(case when recency = count_in_window then score end) as oldest_score_30,
        {{ ordered_string_agg('cast(' ~ round_to('score', 2) ~ ' as ' ~ type_text() ~ ')', "' > '", 'verified_at') }}
            as score_history
    from (
        select
            ranked.*,
            least(count(*) over (partition by ranked.dataset), 30) as count_in_window
        from ranked
    ) as windowed
    where recency <= 30
    group by dataset
),

worst as (
    select
        checks.dataset,
        {{ ordered_string_agg(
            "checks.check_name || ' (' || cast(" ~ round_to('100 * checks.check_score', 2) ~ " as " ~ type_text() ~ ") || ')'",
            "', '", 'checks.check_score, checks.check_name') }} as failed_checks
    from checks
    inner join latest on checks.verification_id = latest.verification_id
    where not checks.is_passed
    group by checks.dataset
),

final as (
    select
        latest.dataset,
        latest.run_id as latest_run_id,
        latest.blocking_checks_failed,
        worst.failed_checks,
        trend.score_history,
        latest.score,
        trend.previous_score,
        latest.score - trend.previous_score as score_change,
        trend.avg_score_30,
        trend.min_score_30,
        latest.score - trend.oldest_score_30 as score_change_30,
        latest.min_score,
        latest.completeness_score,
        latest.accuracy_score,
        latest.consistency_score,
        latest.timeliness_score,
        latest.uniqueness_score,
        latest.validity_score,
        latest.checks_total,
        latest.checks_failed,
        latest.blocking_failed,
        trend.verifications_in_trend,
        latest.is_below_min_score,
        latest.blocking_failed > 0 as is_blocked,
        latest.verified_at as latest_verified_at
    from latest
    inner join trend on latest.dataset = trend.dataset
    left join worst on latest.dataset = worst.dataset
)

select * from final
