{{ incremental_config('order_li_id') }}
-- Order line items. Incremental: a run adds the lines that arrived since the last run.
select * from {{ ref('stg_shop__order_line_items') }}
{% if is_incremental() %}
    where _loaded_at > {{ watermark() }}
{% endif %}
