{{ incremental_config('_source_file') }}
-- Clickstream events. Incremental by file: a run takes the files loaded since the last run, and a
-- re-loaded file (a partition re-run) replaces its rows. A redelivered event (same activity_uuid)
-- counts once, in the first file that brought it.
with

source as (
    select * from {{ source('web', 'web_events') }}
    {% if is_incremental() %}
        where _loaded_at > {{ watermark() }}
    {% endif %}
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
        activity_ts as activity_at,
        _source_file,
        _loaded_at
    from deduped
    {% if is_incremental() %}
        where not exists (
            select 1 from {{ this }} as kept
            where kept.activity_uuid = deduped.activity_uuid and kept._source_file <> deduped._source_file
        )
    {% endif %}
)

select * from renamed
