{#- A Lens activity stream (product views, favourites, cart adds, orders placed): the events of one
    action, attributed to the session's customer, with the product and brand as they were when the
    event happened (an event before the product's first snapshot takes that first version).
    Incremental: a run rebuilds the streams of the sessions that changed (a session
    can gain its customer when a later hour brings the login), reading their events from the earliest
    first load among them (int_web_activity_sessionized). -#}
{% macro activity_stream(action) -%}
{{ incremental_config('session_id') }}
with

changed_sessions as (
    select session_id, customer_id, _first_loaded_at, _loaded_at from {{ ref('int_web_activity_sessionized') }}
    {% if is_incremental() %}
        where _loaded_at > {{ watermark() }}
    {% endif %}
),

events as (
    select * from {{ ref('stg_web__events') }}
    where
        event_action = '{{ action }}'
        {% if is_incremental() %}
            -- a session's events were loaded from its first load on: the last hours, not the year
            and _loaded_at >= (select min(changed_sessions._first_loaded_at) from changed_sessions)
            and session_id in (select changed_sessions.session_id from changed_sessions)
        {% endif %}
),

products as (
    select * from {{ ref('products_history') }}
),

brands as (
    select * from {{ ref('stg_catalog__brands') }}
),

final as (
    select
        events.activity_uuid,
        events.session_id,
        changed_sessions.customer_id as entity_id,
        events.product_sku,
        events.transaction_id,
        products.product_name,
        products.product_category as category_name,
        products.product_subcategory as subcategory_name,
        brands.brand_name,
        brands.parent_company,
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
        events.activity_at as activity_ts,
        changed_sessions._loaded_at
    from events
    inner join changed_sessions on events.session_id = changed_sessions.session_id
    left join products
        on
            events.product_sku = products.sku_id
            and (events.activity_at >= products.valid_from or products.version_number = 1)
            and (events.activity_at < products.valid_to or products.valid_to is null)
    left join brands on products.brand_id = brands.brand_id
)

select * from final
{%- endmacro %}
