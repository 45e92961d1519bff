{{ incremental_config('session_id') }}
-- One row per web session (Lens: sessions), refreshed for the sessions that changed.
select * from {{ ref('int_web_activity_sessionized') }}
{% if is_incremental() %}
    where _loaded_at > {{ watermark() }}
{% endif %}
