{{ incremental_config('customer_id') }}
-- Web engagement per customer, over the sessions attributed to them. Incremental: a run
-- recomputes only the customers with a changed session (so an hourly run touches that hour's).
with

sessions as (
    select * from {{ ref('int_web_activity_sessionized') }}
    where
        customer_id is not null
    {% if is_incremental() %}
            and customer_id in (
                select customer_id from {{ ref('int_web_activity_sessionized') }}
                where _loaded_at > {{ watermark() }}
            )
        {% endif %}
),

channels as (
    select
        customer_id,
        traffic_channel,
        row_number() over (partition by customer_id order by count(*) desc, traffic_channel asc) as channel_rank
    from sessions
    group by customer_id, traffic_channel
),

aggregated as (
    select
        customer_id,
        count(*) as sessions_count,
        cast(sum(product_views_count) as bigint) as product_views_count,
        cast(sum(favorites_count) as bigint) as favorites_count,
        cast(sum(cart_adds_count) as bigint) as cart_adds_count,
        sum(case when cart_adds_count > 0 then 1 else 0 end) as sessions_with_cart,
        sum(case when is_cart_abandoned then 1 else 0 end) as abandoned_carts,
        sum(engagement_minutes) as engagement_minutes,
        max(session_ended_at) as last_activity_at,
        max(_loaded_at) as _loaded_at
    from sessions
    group by customer_id
),

final as (
    select
        aggregated.customer_id,
        channels.traffic_channel as preferred_channel,
        aggregated.sessions_count,
        aggregated.product_views_count,
        aggregated.favorites_count,
        aggregated.cart_adds_count,
        case
            when aggregated.sessions_with_cart > 0
                then cast(aggregated.abandoned_carts as {{ type_double() }}) / aggregated.sessions_with_cart
        end as cart_abandonment_rate,
        cast(aggregated.engagement_minutes as {{ type_double() }}) as engagement_minutes,
        aggregated.last_activity_at,
        aggregated._loaded_at
    from aggregated
    left join channels
        on aggregated.customer_id = channels.customer_id and channels.channel_rank = 1
)

select * from final
