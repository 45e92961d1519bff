-- The demand forecaster's series (ml/forecast.py): units of counted order lines per day and product
-- category, the category the product had when it was ordered.
with

lines as (
    select * from {{ ref('int_orders_enriched') }}
),

final as (
    select
        cast(ordered_at as date) as sales_date,
        product_category,
        sum(quantity) as units
    from lines
    where is_counted
    group by cast(ordered_at as date), product_category
)

select * from final
