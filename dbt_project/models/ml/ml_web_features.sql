-- Web engagement per customer at each cutoff, from the events before the cutoff in its lookback.
-- A session belongs to the customer who logged in during it (before the cutoff), or else to the one
-- customer its browser (anonymous_id) logged in as before the cutoff (identity stitching). Its
-- events count only up to the cutoff.
-- A cutoff and its lookback both fall on midnight, so a window holds whole days: the events are
-- summed once per session, day and identity (ml_web_session_days, a quarter of the rows), and each
-- cutoff adds up the days in its window. The figures are the ones every event read at every cutoff
-- would give.
with

cutoffs as (
    select
        cutoff_date,
        cast({{ dbt.dateadd('day', '-lookback_days', 'cutoff_at') }} as date) as first_day
    from {{ ref('ml_cutoffs') }}
),

order_history as (
    select * from {{ ref('ml_order_features') }}
),

session_days as (
    select * from {{ ref('ml_web_session_days') }}
),

events_known as (
    select
        cutoffs.cutoff_date,
        session_days.*,
        cast({{ dbt.datediff('session_days.activity_day', 'cutoffs.cutoff_date', 'day') }} as integer) as days_before
    from cutoffs
    inner join session_days
        on session_days.activity_day between cutoffs.first_day and cutoffs.cutoff_date
),

-- which customers each browser logged in as, per day, from the session-day table (read apart from
-- `session_days`: a CTE read twice is held in memory, 58M rows at 1M customers)
browser_days as (
    select distinct
        activity_day,
        anonymous_id,
        customer_id
    from {{ ref('ml_web_session_days') }}
    where customer_id is not null and anonymous_id is not null
),

browsers as (
    select
        cutoffs.cutoff_date,
        browser_days.anonymous_id,
        min(browser_days.customer_id) as customer_id
    from cutoffs
    inner join browser_days
        on browser_days.activity_day between cutoffs.first_day and cutoffs.cutoff_date
    group by cutoffs.cutoff_date, browser_days.anonymous_id
    having min(browser_days.customer_id) = max(browser_days.customer_id)
),

session_events as (
    select
        cutoff_date,
        session_id,
        max(customer_id) as logged_in_customer_id,
        min(anonymous_id) as anonymous_id,
        min(days_before) as days_before,
        sum(product_views) as product_views,
        sum(favorites) as favorites,
        sum(cart_adds) as cart_adds,
        sum(orders_placed) as orders_placed,
        {{ dbt.datediff('min(first_activity_at)', 'max(last_activity_at)', 'second') }} as engagement_seconds
    from events_known
    group by cutoff_date, session_id
),

sessions as (
    select
        session_events.*,
        coalesce(session_events.logged_in_customer_id, browsers.customer_id) as customer_id
    from session_events
    left join browsers
        on session_events.cutoff_date = browsers.cutoff_date and session_events.anonymous_id = browsers.anonymous_id
),

per_customer as (
    select
        sessions.cutoff_date,
        sessions.customer_id,
        count(*) as sessions_count,
        sum(case when sessions.days_before < 7 then 1 else 0 end) as sessions_7d,
        sum(case when sessions.days_before < 30 then 1 else 0 end) as sessions_30d,
        -- browsing after the last order: a customer who stopped buying but still visits is alive
        sum(case when sessions.days_before < order_history.recency_days then 1 else 0 end)
            as sessions_since_last_order,
        sum(sessions.product_views) as product_views,
        sum(sessions.favorites) as favorites,
        sum(sessions.cart_adds) as cart_adds,
        sum(case when sessions.cart_adds > 0 then 1 else 0 end) as sessions_with_cart,
        sum(case when sessions.cart_adds > 0 and sessions.orders_placed = 0 then 1 else 0 end) as abandoned_carts,
        sum(sessions.engagement_seconds) as engagement_seconds,
        min(sessions.days_before) as days_since_last_session,
        max(sessions.days_before) as first_session_days_ago
    from sessions
    left join order_history
        on sessions.cutoff_date = order_history.cutoff_date and sessions.customer_id = order_history.customer_id
    where sessions.customer_id is not null
    group by sessions.cutoff_date, sessions.customer_id
),

final as (
    select
        cutoff_date,
        customer_id,
        sessions_count,
        sessions_7d,
        sessions_30d,
        sessions_since_last_order,
        product_views,
        favorites,
        cart_adds,
        cast(abandoned_carts as {{ type_double() }}) / nullif(sessions_with_cart, 0) as cart_abandonment_rate,
        -- whole seconds summed, so the total is exact (a sum of doubles changes with the row order)
        cast(engagement_seconds as {{ type_double() }}) / 60 as engagement_minutes,
        days_since_last_session,
        case
            when sessions_count > 1
                then cast(first_session_days_ago - days_since_last_session as {{ type_double() }}) / (sessions_count - 1)
        end as mean_days_between_sessions
    from per_customer
)

select * from final
