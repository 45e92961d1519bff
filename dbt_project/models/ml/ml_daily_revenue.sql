-- The revenue forecaster's series (ml/forecast.py): counted orders and their revenue per day of the order,
-- as the `revenue` metric counts them. Days without a counted order have no row; Python cuts the series
-- at a cutoff and fills those days with zero.
with

orders as (
    select * from {{ ref('int_orders_current') }}
),

final as (
    select
        cast(ordered_at as date) as sales_date,
        count(*) as orders_count,
        sum(total_amount) as revenue
    from orders
    where is_counted
    group by cast(ordered_at as date)
)

select * from final
