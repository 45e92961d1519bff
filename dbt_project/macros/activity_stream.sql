{#- A Lens activity stream (product views, favourites, cart adds, orders placed): the events of one
    action, attributed to the session's customer, with product and brand attributes. -#}
{% macro activity_stream(action) -%}
with

events as (
    select * from {{ ref('stg_web__events') }}
    where event_action = '{{ action }}'
),

sessions as (
    select session_id, customer_id from {{ ref('int_web_activity_sessionized') }}
),

products as (
    select * from {{ ref('products') }}
),

final as (
    select
        events.activity_uuid,
        events.session_id,
        sessions.customer_id as entity_id,
        events.product_sku,
        events.transaction_id,
        products.product_name,
        products.product_category as category_name,
        products.product_subcategory as subcategory_name,
        products.brand_name,
        products.parent_company,
        events.event_action,
        events.traffic_channel,
        events.traffic_source,
        products.sale_price as product_price,
        events.quantity,
        events.order_value,
        events.occurrence,
        {{ dbt.date_trunc('year', 'events.activity_at') }} as activity_year,
        {{ dbt.date_trunc('month', 'events.activity_at') }} as activity_month,
        events.visit_started_at as visit_start_ts,
        events.activity_at as activity_ts
    from events
    left join sessions on events.session_id = sessions.session_id
    left join products on events.product_sku = products.sku_id
)

select * from final
{%- endmacro %}
