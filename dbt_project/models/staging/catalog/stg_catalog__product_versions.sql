-- Each product as every weekly catalogue snapshot showed it, dated by the snapshot's file
-- (catalog/products/products_<YYYY-MM-DD>.json, or .json.gz/.json.zst when delivered compressed).
-- Within a file, the first record of a duplicated product_id wins.
with

source as (
    select * from {{ source('catalog', 'products') }}
),

per_file as (
    {{ latest_version('source', 'product_id, _source_file', '_line asc') }}
),

renamed as (
    select
        product_id,
        {{ catalog_product_columns() }}
        {{ money('list_price') }} as list_price,
        {{ money('sale_price') }} as sale_price,
        launched_ts as launched_at,
        cast(substr(_source_file, {{ strpos('_source_file', "'products_'") }} + 9, 10) as date) as snapshot_date,
        _loaded_at
    from per_file
)

select * from renamed
