-- The dates the models look from. Each cutoff's features read only data up to the end of its day;
-- its labels read the `ml_horizon_days` after it (the churn window of CONTRACT.md).
--   score   = as_of_date: what the champion predicts today;
--   holdout = score - horizon: its labels end on as_of_date, so a model is judged out of time;
--   train   = holdout - horizon: its labels end where the holdout begins (strictly before it).
-- Every cutoff looks back the same number of days, so features mean the same thing at each;
-- that lookback is the history the train cutoff has, capped at `ml_max_lookback_days`.
with

first_order as (
    select min(cast(ordered_at as date)) as first_order_date
    from {{ ref('stg_shop__order_versions') }}
),

roles as (
    select
        'score' as cutoff_role,
        0 as horizons_back
    union all
    select
        'holdout' as cutoff_role,
        1 as horizons_back
    union all
    select
        'train' as cutoff_role,
        2 as horizons_back
),

dated as (
    select
        roles.cutoff_role,
        cast(
            {{ dbt.dateadd('day', '-' ~ var('ml_horizon_days') ~ ' * roles.horizons_back', as_of_date()) }} as date
        ) as cutoff_date,
        cast({{ dbt.dateadd('day', '-2 * ' ~ var('ml_horizon_days'), as_of_date()) }} as date) as train_cutoff_date,
        first_order.first_order_date
    from roles
    cross join first_order
),

bounded as (
    select
        cutoff_role,
        cutoff_date,
        cast(least(
            {{ var('ml_max_lookback_days') }},
            greatest(0, {{ dbt.datediff('first_order_date', 'train_cutoff_date', 'day') }} + 1)
        ) as integer) as lookback_days,
        -- the first moment after the cutoff's day: features read data strictly before it
        cast({{ dbt.dateadd('day', 1, 'cutoff_date') }} as timestamp) as cutoff_at
    from dated
),

-- whether web analytics exists at all for a cutoff: without it the web features are absent, not zero
web_presence as (
    select
        bounded.cutoff_date,
        count(events.activity_uuid) as web_events_in_lookback
    from bounded
    left join {{ ref('stg_web__events') }} as events
        on
            events.activity_at < bounded.cutoff_at
            and events.activity_at >= {{ dbt.dateadd('day', '-bounded.lookback_days', 'bounded.cutoff_at') }}
    group by bounded.cutoff_date
),

final as (
    select
        bounded.cutoff_role,
        bounded.cutoff_date,
        {{ var('ml_horizon_days') }} as horizon_days,
        bounded.lookback_days,
        web_presence.web_events_in_lookback,
        bounded.cutoff_at
    from bounded
    inner join web_presence on bounded.cutoff_date = web_presence.cutoff_date
)

select * from final
