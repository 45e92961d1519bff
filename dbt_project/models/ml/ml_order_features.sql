-- Order history, trends and product preferences per customer at each cutoff, from the orders
-- placed in the cutoff's lookback as their latest version *before the cutoff* showed them.
-- An order whose first record arrived after the cutoff was not known then, so it is not here.
with

cutoffs as (
    select * from {{ ref('ml_cutoffs') }}
),

order_versions as (
    select * from {{ ref('stg_shop__order_versions') }}
),

lines as (
    select * from {{ ref('int_orders_enriched') }}
),

versions_known as (
    select
        cutoffs.cutoff_date,
        order_versions.order_id,
        order_versions.customer_id,
        order_versions.is_counted,
        order_versions.total_amount,
        order_versions.discounted_amount,
        cast({{ dbt.datediff('cast(order_versions.ordered_at as date)', 'cutoffs.cutoff_date', 'day') }} as integer)
            as days_before,
        row_number() over (
            partition by cutoffs.cutoff_date, order_versions.order_id order by order_versions.updated_at desc
        ) as version_rank
    from cutoffs
    inner join order_versions
        on
            order_versions.updated_at < cutoffs.cutoff_at
            and order_versions.ordered_at < cutoffs.cutoff_at
            and order_versions.ordered_at >= {{ dbt.dateadd('day', '-cutoffs.lookback_days', 'cutoffs.cutoff_at') }}
),

counted as (
    select * from versions_known
    where version_rank = 1 and is_counted
),

per_customer as (
    select
        versions_known.cutoff_date,
        versions_known.customer_id,
        count(*) as orders_placed
    from versions_known
    where versions_known.version_rank = 1
    group by versions_known.cutoff_date, versions_known.customer_id
),

order_history as (
    select
        cutoff_date,
        customer_id,
        count(*) as frequency_orders,
        {{ exact_sum('total_amount') }} as monetary_value,
        {{ exact_sum('discounted_amount') }} as discount_amount,
        min(days_before) as recency_days,
        max(days_before) as first_order_days_ago,
        sum(case when days_before < 30 then 1 else 0 end) as orders_30d,
        sum(case when days_before < 90 then 1 else 0 end) as orders_90d,
        {{ exact_sum('case when days_before < 30 then total_amount else 0 end') }} as revenue_30d,
        {{ exact_sum('case when days_before < 90 then total_amount else 0 end') }} as revenue_90d
    from counted
    group by cutoff_date, customer_id
),

category_spend as (
    select
        counted.cutoff_date,
        counted.customer_id,
        lines.product_category,
        {{ exact_sum('lines.line_amount') }} as spent,
        sum(lines.quantity) as items
    from counted
    inner join lines on counted.order_id = lines.order_id
    group by counted.cutoff_date, counted.customer_id, lines.product_category
),

preferences as (
    select
        cutoff_date,
        customer_id,
        count(distinct product_category) as distinct_categories,
        sum(items) as items_bought,
        max(spent) / nullif({{ exact_sum('spent') }}, 0) as top_category_share,
        {{ exact_sum('spent') }} / nullif(sum(items), 0) as avg_unit_price
    from category_spend
    group by cutoff_date, customer_id
),

final as (
    select
        per_customer.cutoff_date,
        per_customer.customer_id,
        coalesce(order_history.frequency_orders, 0) as frequency_orders,
        coalesce(order_history.monetary_value, 0) as monetary_value,
        order_history.monetary_value / order_history.frequency_orders as avg_order_value,
        order_history.recency_days,
        order_history.first_order_days_ago,
        case
            when order_history.frequency_orders > 1
                then
                    cast(order_history.first_order_days_ago - order_history.recency_days as {{ type_double() }})
                    / (order_history.frequency_orders - 1)
        end as mean_days_between_orders,
        1 - cast(coalesce(order_history.frequency_orders, 0) as {{ type_double() }}) / per_customer.orders_placed
            as canceled_or_returned_share,
        order_history.discount_amount
        / nullif(order_history.monetary_value + order_history.discount_amount, 0) as discount_share,
        coalesce(order_history.orders_30d, 0) as orders_30d,
        coalesce(order_history.orders_90d, 0) as orders_90d,
        coalesce(order_history.revenue_30d, 0) as revenue_30d,
        coalesce(order_history.revenue_90d, 0) as revenue_90d,
        cast(preferences.items_bought as {{ type_double() }}) / order_history.frequency_orders as items_per_order,
        preferences.distinct_categories,
        preferences.top_category_share,
        preferences.avg_unit_price
    from per_customer
    left join order_history
        on per_customer.cutoff_date = order_history.cutoff_date and per_customer.customer_id = order_history.customer_id
    left join preferences
        on per_customer.cutoff_date = preferences.cutoff_date and per_customer.customer_id = preferences.customer_id
)

select * from final
