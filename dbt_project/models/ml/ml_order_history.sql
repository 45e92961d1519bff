-- Every customer's whole counted-order history at the score cutoff, however long ago (no lookback): the
-- answers for lapsed buyers, whose last order lies before the lookback the models see, and the BG/NBD +
-- Gamma-Gamma fit behind their lifetime value (ml/lapsed.py, docs/ml.md "Every buyer answered"). Orders
-- are counted as their latest version before the cutoff showed them, as in ml_order_features.
with

cutoffs as (
    select * from {{ ref('ml_cutoffs') }}
    where cutoff_role = 'score'
),

order_versions as (
    select * from {{ ref('stg_shop__order_versions') }}
),

versions_known as (
    select
        cutoffs.cutoff_date,
        order_versions.order_id,
        order_versions.customer_id,
        order_versions.is_counted,
        order_versions.total_amount,
        cast({{ dbt.datediff('cast(order_versions.ordered_at as date)', 'cutoffs.cutoff_date', 'day') }} as integer)
            as days_before,
        row_number() over (
            partition by order_versions.order_id order by order_versions.updated_at desc
        ) as version_rank
    from cutoffs
    inner join order_versions
        on
            order_versions.updated_at < cutoffs.cutoff_at
            and order_versions.ordered_at < cutoffs.cutoff_at
),

final as (
    select
        cutoff_date,
        customer_id,
        count(*) as frequency_orders,
        {{ exact_sum('total_amount') }} as monetary_value,
        min(days_before) as recency_days,
        max(days_before) as first_order_days_ago
    from versions_known
    where version_rank = 1 and is_counted
    group by cutoff_date, customer_id
)

select * from final
