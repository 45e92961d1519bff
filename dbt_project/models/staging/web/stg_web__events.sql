-- Clickstream events; a redelivered event (same activity_uuid) counts once.
with

source as (
    select * from {{ source('web', 'web_events') }}
),

deduped as (
    {{ latest_version('source', 'activity_uuid', '_source_file asc, _line asc') }}
),

renamed as (
    select
        activity_uuid,
        session_id,
        anonymous_id,
        entity_id as customer_id,
        event_action,
        product_sku,
        transaction_id,
        traffic_channel,
        traffic_source,
        quantity,
        order_value,
        occurrence,
        visit_start_ts as visit_started_at,
        activity_ts as activity_at
    from deduped
)

select * from renamed
