-- One row per customer known to the CRM at each cutoff, with every feature group the models use
-- (docs/ml.md). Everything here was knowable at the end of the cutoff's day: the leakage tests
-- append later rows and expect these rows unchanged. Web features are null, not zero, for a
-- cutoff without any web analytics; the trainer then leaves that group out.
with

cutoffs as (
    select * from {{ ref('ml_cutoffs') }}
),

crm as (
    select * from {{ ref('ml_crm_features') }}
),

orders as (
    select * from {{ ref('ml_order_features') }}
),

web as (
    select * from {{ ref('ml_web_features') }}
),

final as (
    select
        crm.customer_id,
        cutoffs.cutoff_role,
        coalesce(orders.frequency_orders, 0) > 0 as is_buyer,
        -- order history (RFM)
        orders.recency_days,
        coalesce(orders.frequency_orders, 0) as frequency_orders,
        coalesce(orders.monetary_value, 0) as monetary_value,
        orders.avg_order_value,
        orders.first_order_days_ago,
        orders.mean_days_between_orders,
        -- silence against the customer's own rhythm: how many usual gaps since the last order
        orders.recency_days / nullif(orders.mean_days_between_orders, 0) as order_gap_ratio,
        orders.canceled_or_returned_share,
        orders.discount_share,
        -- order trends
        coalesce(orders.orders_30d, 0) as orders_30d,
        coalesce(orders.orders_90d, 0) as orders_90d,
        coalesce(orders.revenue_30d, 0) as revenue_30d,
        coalesce(orders.revenue_90d, 0) as revenue_90d,
        -- web engagement (absent for a cutoff with no web analytics)
        case when cutoffs.web_events_in_lookback > 0 then coalesce(web.sessions_count, 0) end as sessions_count,
        case when cutoffs.web_events_in_lookback > 0 then coalesce(web.sessions_7d, 0) end as sessions_7d,
        case when cutoffs.web_events_in_lookback > 0 then coalesce(web.sessions_30d, 0) end as sessions_30d,
        cast(web.sessions_30d as {{ type_double() }}) / web.sessions_count as sessions_30d_share,
        case
            when cutoffs.web_events_in_lookback > 0 and orders.recency_days is not null
                then coalesce(web.sessions_since_last_order, 0)
        end as sessions_since_last_order,
        case when cutoffs.web_events_in_lookback > 0 then coalesce(web.product_views, 0) end as product_views,
        case when cutoffs.web_events_in_lookback > 0 then coalesce(web.favorites, 0) end as favorites,
        case when cutoffs.web_events_in_lookback > 0 then coalesce(web.cart_adds, 0) end as cart_adds,
        web.cart_abandonment_rate,
        case when cutoffs.web_events_in_lookback > 0 then coalesce(web.engagement_minutes, 0) end
            as engagement_minutes,
        web.days_since_last_session,
        web.mean_days_between_sessions,
        web.days_since_last_session / nullif(web.mean_days_between_sessions, 0) as session_gap_ratio,
        -- CRM attributes and life events
        crm.age,
        crm.tenure_days,
        crm.loyalty_tier,
        crm.number_of_children,
        crm.annual_income,
        crm.is_married,
        crm.had_child_recently,
        crm.changed_marital_status_recently,
        crm.moved_recently,
        -- product preferences
        orders.items_per_order,
        orders.distinct_categories,
        orders.top_category_share,
        orders.avg_unit_price,
        cutoffs.cutoff_date,
        cutoffs.lookback_days
    from crm
    inner join cutoffs on crm.cutoff_date = cutoffs.cutoff_date
    left join orders on crm.cutoff_date = orders.cutoff_date and crm.customer_id = orders.customer_id
    left join web on crm.cutoff_date = web.cutoff_date and crm.customer_id = web.customer_id
)

select * from final
