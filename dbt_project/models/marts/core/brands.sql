select * from {{ ref('stg_catalog__brands') }}
