{{ incremental_config('_source_file') }}
-- Clickstream events. Incremental by file: a run takes the files loaded since the last run, and a
-- re-loaded file (a partition re-run) replaces its rows. A redelivered event (same activity_uuid)
-- counts once, in the first file that brought it.
with

{% if is_incremental() %}
    source as (
        select * from {{ source('web', 'web_events') }}
        where _loaded_at > {{ watermark() }}
    ),

    deduped as (
        {{ latest_version('source', 'activity_uuid', '_source_file asc, _line asc') }}
    ),

    -- events of this batch already kept from another file: look up only the batch's ids (macros/event_key.sql)
    kept_elsewhere as (
        {{ events_with_ids(this, 'deduped', ['activity_uuid', '_source_file']) }}
    ),
{% else %}
    -- every file at once: only the redelivered events are ranked, not a year of them (the raw table is
    -- read directly: a CTE read three times would be materialized first)
    deduped as (
        {{ first_per_key(source('web', 'web_events'), 'activity_uuid', '_source_file asc, _line asc',
                         ['_source_file', '_line'], lookup_key='activity_key') }}
    ),
{% endif %}

renamed as (
    select
        deduped.activity_uuid,
        {{ event_key('deduped.activity_uuid') }} as activity_key,
        deduped.session_id,
        deduped.anonymous_id,
        deduped.entity_id as customer_id,
        deduped.event_action,
        deduped.product_sku,
        deduped.transaction_id,
        deduped.traffic_channel,
        deduped.traffic_source,
        deduped.quantity,
        {{ money('deduped.order_value') }} as order_value,
        deduped.occurrence,
        deduped.visit_start_ts as visit_started_at,
        deduped.activity_ts as activity_at,
        deduped._source_file,
        deduped._loaded_at
    from deduped
    {% if is_incremental() %}
        left join kept_elsewhere
            on
                deduped.activity_uuid = kept_elsewhere.activity_uuid
                and deduped._source_file <> kept_elsewhere._source_file
        where kept_elsewhere.activity_uuid is null
    {% endif %}
)

select * from renamed
