-- Each monthly file is a full snapshot of the brands: keep the latest.
with

source as (
    select * from {{ source('catalog', 'brands') }}
),

latest as (
    {{ latest_version('source', 'brand_id', '_source_file desc, _line asc') }}
),

renamed as (
    select
        brand_id,
        brand_name,
        parent_company,
        description as brand_description,
        brand_type,
        website,
        founded_year,
        headquarters
    from latest
)

select * from renamed
