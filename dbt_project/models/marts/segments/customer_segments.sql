-- One row per customer per audience (dbt_project/audiences.yml): the audience, the values that
-- qualified the customer, and when they entered it (their latest entry in the history).
with

members as (
    select * from {{ ref('stg_audiences__audience_assignments') }}
),

entries as (
    select
        customer_id,
        segment_name,
        max(event_at) as assigned_at
    from {{ ref('segment_membership_history') }}
    where event = 'entered'
    group by customer_id, segment_name
),

final as (
    select
        members.customer_id,
        members.segment_name,
        members.reason,
        coalesce(entries.assigned_at, members.evaluated_at) as assigned_at
    from members
    left join entries
        on
            members.customer_id = entries.customer_id
            and members.segment_name = entries.segment_name
)

select * from final
