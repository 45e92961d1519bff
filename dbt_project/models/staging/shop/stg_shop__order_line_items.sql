-- Line items do not change after the order; a re-delivered line keeps its first load.
with

source as (
    select * from {{ source('shop', 'order_line_items') }}
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
        unit_price,
        qty * unit_price as line_amount
    from deduped
)

select * from renamed
