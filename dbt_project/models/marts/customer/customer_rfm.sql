-- RFM scores per CONTRACT.md: 1-5 as ceil(5 * cume_dist()) over customers with a counted order;
-- equal values score equally. Customers without a counted order are Prospects with null scores.
with

customers as (
    select customer_id from {{ ref('int_customers_current') }}
),

orders as (
    select * from {{ ref('int_customer_orders_aggregated') }}
),

scored as (
    select
        customer_id,
        orders_count,
        total_order_value,
        recency_days,
        cast(ceil(5 * cume_dist() over (order by recency_days desc)) as integer) as rfm_recency_score,
        cast(ceil(5 * cume_dist() over (order by orders_count asc)) as integer) as rfm_frequency_score,
        cast(ceil(5 * cume_dist() over (order by total_order_value asc)) as integer) as rfm_monetary_score
    from orders
),

final as (
    select
        customers.customer_id,
        scored.rfm_recency_score,
        scored.rfm_frequency_score,
        scored.rfm_monetary_score,
        {{ rfm_segment('scored.rfm_recency_score', 'scored.rfm_frequency_score', 'scored.rfm_monetary_score') }}
            as rfm_segment
    from customers
    left join scored on customers.customer_id = scored.customer_id
)

select * from final
