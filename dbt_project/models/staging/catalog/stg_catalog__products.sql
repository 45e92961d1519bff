-- Each weekly file is a full catalogue snapshot: keep the product as of the latest file
-- (within a file, the first record of a duplicated product_id wins).
with

source as (
    select * from {{ source('catalog', 'products') }}
),

latest as (
    {{ latest_version('source', 'product_id', '_source_file desc, _line asc') }}
),

renamed as (
    select
        product_id,
        sku_id,
        brand_id,
        product_name,
        product_category,
        product_subcategory,
        product_colour,
        product_size,
        list_price,
        sale_price,
        launched_ts as launched_at
    from latest
)

select * from renamed
