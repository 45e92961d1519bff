-- CRM attributes of each customer as their record stood at each cutoff (the SCD2 version valid
-- then), and the life events the CRM recorded in the cutoff's last horizon: a child born, a
-- marriage, a move. Customers who registered after the cutoff are not here.
with

cutoffs as (
    select * from {{ ref('ml_cutoffs') }}
),

history as (
    select
        customers_history.*,
        lag(customers_history.number_of_children) over (
            partition by customers_history.customer_id order by customers_history.updated_at
        ) as previous_children,
        lag(customers_history.marital_status) over (
            partition by customers_history.customer_id order by customers_history.updated_at
        ) as previous_marital_status,
        lag(customers_history.mailing_street) over (
            partition by customers_history.customer_id order by customers_history.updated_at
        ) as previous_street
    from {{ ref('customers_history') }} as customers_history
),

recent_changes as (
    select
        cutoffs.cutoff_date,
        history.customer_id,
        max(case when history.number_of_children > history.previous_children then 1 else 0 end) as had_child,
        max(case when history.marital_status <> history.previous_marital_status then 1 else 0 end)
            as changed_marital_status,
        max(case when history.mailing_street <> history.previous_street then 1 else 0 end) as moved
    from cutoffs
    inner join history
        on
            history.updated_at < cutoffs.cutoff_at
            and history.updated_at >= {{ dbt.dateadd('day', '-cutoffs.horizon_days', 'cutoffs.cutoff_at') }}
    group by cutoffs.cutoff_date, history.customer_id
),

valid_at_cutoff as (
    select
        cutoffs.cutoff_date,
        history.*
    from cutoffs
    inner join history
        on
            history.valid_from < cutoffs.cutoff_at
            and (history.valid_to >= cutoffs.cutoff_at or history.valid_to is null)
),

final as (
    select
        valid_at_cutoff.cutoff_date,
        valid_at_cutoff.customer_id,
        cast(
            floor({{ dbt.datediff('valid_at_cutoff.date_of_birth', 'valid_at_cutoff.cutoff_date', 'day') }} / 365.25)
            as integer
        ) as age,
        cast(
            {{ dbt.datediff('cast(valid_at_cutoff.registered_at as date)', 'valid_at_cutoff.cutoff_date', 'day') }}
            as integer
        ) as tenure_days,
        valid_at_cutoff.degree_of_loyalty as loyalty_tier,
        valid_at_cutoff.number_of_children,
        valid_at_cutoff.annual_income,
        case
            when valid_at_cutoff.marital_status is null then null
            when valid_at_cutoff.marital_status = 'Married' then 1 else 0
        end as is_married,
        coalesce(recent_changes.had_child, 0) as had_child_recently,
        coalesce(recent_changes.changed_marital_status, 0) as changed_marital_status_recently,
        coalesce(recent_changes.moved, 0) as moved_recently
    from valid_at_cutoff
    left join recent_changes
        on
            valid_at_cutoff.cutoff_date = recent_changes.cutoff_date
            and valid_at_cutoff.customer_id = recent_changes.customer_id
)

select * from final
