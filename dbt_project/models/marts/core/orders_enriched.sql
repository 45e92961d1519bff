-- The spec's orders_enriched_data: one row per line item of the latest order versions,
-- with its order, product, brand, payment and customer.
with

lines as (
    select * from {{ ref('int_orders_enriched') }}
),

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

final as (
    select
        lines.*,
        customers.first_name as customer_first_name,
        customers.last_name as customer_last_name,
        customers.city as customer_city,
        customers.state as customer_state
    from lines
    left join customers on lines.customer_id = customers.customer_id
)

select * from final
