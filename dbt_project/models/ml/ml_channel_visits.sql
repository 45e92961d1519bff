-- Every visit of a signed-in customer: its traffic channel, when it began, and whether it ended in an
-- order. The next-best-channel model's input (ml/channel.py), cut at each cutoff in Python.
with

sessions as (
    select * from {{ ref('int_web_activity_sessionized') }}
),

final as (
    select
        session_id,
        customer_id,
        traffic_channel,
        session_started_at as visited_at,
        orders_placed_count > 0 as converted
    from sessions
    where customer_id is not null
)

select * from final
