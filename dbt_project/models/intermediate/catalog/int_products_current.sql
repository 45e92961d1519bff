{{ config(materialized=current_state_materialization()) }}
-- Each product as the latest catalogue snapshot that lists it shows it. A weekly file is the whole
-- catalogue, so a product missing from the newest one is discontinued.
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
    launched_at,
    snapshot_date as last_listed_on,
    snapshot_date < (select max(newest.snapshot_date) from versions as newest) as is_discontinued
from latest
