-- Each customer's favourite category and brand: the most spent on in counted orders
-- (ties go to the name first in alphabetical order, so the choice is deterministic).
with

lines as (
    select * from {{ ref('int_orders_enriched') }}
    where is_counted
),

by_category as (
    select
        customer_id,
        product_category as preference,
        sum(line_amount) as spent
    from lines
    group by customer_id, product_category
),

by_brand as (
    select
        customer_id,
        brand_name as preference,
        sum(line_amount) as spent
    from lines
    group by customer_id, brand_name
),

ranked as (
    select
        'category' as kind,
        customer_id,
        preference,
        row_number() over (partition by customer_id order by spent desc, preference asc) as preference_rank
    from by_category
    union all
    select
        'brand' as kind,
        customer_id,
        preference,
        row_number() over (partition by customer_id order by spent desc, preference asc) as preference_rank
    from by_brand
),

final as (
    select
        customer_id,
        max(case when kind = 'category' then preference end) as preferred_category,
        max(case when kind = 'brand' then preference end) as preferred_brand
    from ranked
    where preference_rank = 1
    group by customer_id
)

select * from final
