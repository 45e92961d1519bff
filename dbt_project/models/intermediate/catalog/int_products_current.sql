{{ config(materialized=current_state_materialization()) }}
-- Each product as the latest catalogue snapshot shows it.
with

versions as (
    select * from {{ ref('stg_catalog__product_versions') }}
),

latest as (
    {{ latest_version('versions', 'product_id', 'snapshot_date desc') }}
)

select
    product_id,
    {{ catalog_product_columns() }}
    list_price,
    sale_price,
    launched_at
from latest
