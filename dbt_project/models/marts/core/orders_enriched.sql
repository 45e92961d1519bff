{{ incremental_config('order_li_id') }}
-- The spec's orders_enriched_data: one row per line item of the latest order versions, with its
-- order, the product, brand and customer address as they were when the order was placed, and
-- its payment. Incremental: a run takes the lines the intermediate model rebuilt.
select * from {{ ref('int_orders_enriched') }}
{% if is_incremental() %}
    where _loaded_at > {{ watermark() }}
{% endif %}
