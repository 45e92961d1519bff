-- One row per customer per audience, and one row with no audience for a customer in none: the
-- grain that lets total_customers be split by audience and still count every customer once.
with

customers as (
    select
        customer_id,
        registered_at
    from {{ ref('customer_360') }}
),

segments as (
    select * from {{ ref('customer_segments') }}
),

final as (
    select
        customers.customer_id,
        customers.registered_at,
        segments.segment_name,
        segments.reason,
        segments.assigned_at,
        customers.customer_id || '|' || coalesce(segments.segment_name, '') as membership_id
    from customers
    left join segments on customers.customer_id = segments.customer_id
)

select * from final
