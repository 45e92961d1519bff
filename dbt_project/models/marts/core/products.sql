with

products as (
    select * from {{ ref('int_products_current') }}
),

brands as (
    select * from {{ ref('stg_catalog__brands') }}
),

final as (
    select
        products.product_id,
        products.sku_id,
        products.brand_id,
        products.product_name,
        products.product_category,
        products.product_subcategory,
        brands.brand_name,
        brands.parent_company,
        products.product_colour,
        products.product_size,
        products.list_price,
        products.sale_price,
        products.launched_at,
        products.last_listed_on,
        products.is_discontinued
    from products
    left join brands on products.brand_id = brands.brand_id
)

select * from final
