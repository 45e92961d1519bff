-- Line items do not change after the order; a re-delivered line keeps its first load.
with

source as (
    select
        *,
        max(_loaded_at) over (partition by order_li_id) as last_loaded_at
    from {{ source('shop', 'order_line_items') }}
),

deduped as (
    {{ latest_version('source', 'order_li_id', '_source_file asc, _line asc') }}
),

renamed as (
    select
        order_li_id,
        order_id,
        product_id,
        qty as quantity,
        {{ money('unit_price') }} as unit_price,
        qty * {{ money('unit_price') }} as line_amount,
        last_loaded_at as _loaded_at
    from deduped
)

select * from renamed
