{{ config(materialized='incremental') }}
-- Entries into and exits from every audience: each run compares today's members with each
-- customer's last event per audience, so a customer who leaves and rejoins shows both.
with

members as (
    select
        customer_id,
        segment_name,
        reason
    from {{ ref('stg_audiences__audience_assignments') }}
),

{% if is_incremental() %}
    latest as (
        select
            customer_id,
            segment_name,
            event,
            row_number() over (
                partition by customer_id, segment_name order by event_at desc, event_sequence desc
            ) as recency_rank
        from {{ this }}
    ),

    previous_members as (
        select customer_id, segment_name from latest
        where recency_rank = 1 and event = 'entered'
    ),

    last_sequence as (
        select coalesce(max(event_sequence), 0) as event_sequence from {{ this }}
    ),
{% else %}
    previous_members as (
        select
            customer_id,
            segment_name
        from members
        where 1 = 0
    ),

    last_sequence as (
        select 0 as event_sequence
    ),
{% endif %}

entered as (
    select
        members.customer_id,
        members.segment_name,
        'entered' as event,
        members.reason
    from members
    left join previous_members
        on
            members.customer_id = previous_members.customer_id
            and members.segment_name = previous_members.segment_name
    where previous_members.customer_id is null
),

exited as (
    select
        previous_members.customer_id,
        previous_members.segment_name,
        'exited' as event,
        cast(null as {{ type_text() }}) as reason
    from previous_members
    left join members
        on
            previous_members.customer_id = members.customer_id
            and previous_members.segment_name = members.segment_name
    where members.customer_id is null
),

final as (
    select
        changes.customer_id,
        changes.segment_name,
        changes.event,
        changes.reason,
        cast({{ dbt.current_timestamp() }} as timestamp) as event_at,
        (select last_sequence.event_sequence from last_sequence) + 1 as event_sequence
    from (
        select * from entered
        union all
        select * from exited
    ) as changes
)

select * from final
