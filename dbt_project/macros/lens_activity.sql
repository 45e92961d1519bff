{#- A Lens activity stream as the semantic layer reads it: the mart's rows plus the two Lens columns
    that depend on "now" or on other rows, computed when queried (the view is rebuilt every run):
    - duration_in_days: whole days from the activity to C360_AS_OF_DATE (0 = today), the column the
      Lens {{start_day}}..{{end_day}} window filters on;
    - activity_repeated_at: when the same customer last did the same action on the same product
      before this activity (null the first time), so a non-null value marks a repeat. -#}
{% macro lens_activity(mart) -%}
with

activity as (
    select * from {{ ref(mart) }}
),

final as (
    select
        activity.*,
        cast({{ dbt.datediff('cast(activity.activity_ts as date)', as_of_date(), 'day') }} as integer)
            as duration_in_days,
        lag(activity.activity_ts) over (
            partition by activity.entity_id, activity.product_sku
            order by activity.activity_ts, activity.activity_uuid
        ) as activity_repeated_at
    from activity
)

select * from final
{%- endmacro %}
