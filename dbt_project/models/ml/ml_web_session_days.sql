-- Web events summed per session, day and identity (about a quarter of the events): the input of
-- ml_web_features, whose cutoffs and lookbacks fall on midnight and so take whole days. A table of its
-- own: built in the same statement as the features, DuckDB held this result and the features' own
-- aggregation in memory together, and ran out of its 3 GB at 1M customers.
select
    session_id,
    cast(activity_at as date) as activity_day,
    anonymous_id,
    customer_id,
    sum(case when event_action = 'product_view' then 1 else 0 end) as product_views,
    sum(case when event_action = 'add_to_favorite' then 1 else 0 end) as favorites,
    sum(case when event_action = 'add_to_cart' then 1 else 0 end) as cart_adds,
    sum(case when event_action = 'order_placed' then 1 else 0 end) as orders_placed,
    min(activity_at) as first_activity_at,
    max(activity_at) as last_activity_at
from {{ ref('stg_web__events') }}
group by session_id, cast(activity_at as date), anonymous_id, customer_id
