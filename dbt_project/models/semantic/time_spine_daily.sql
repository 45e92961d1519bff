-- MetricFlow's time spine: one row per day, wide enough for any history c360 loads.
with

days as (
    {{ dbt.date_spine('day', "cast('1990-01-01' as date)", "cast('2041-01-01' as date)") }}
),

final as (
    select cast(date_day as date) as date_day
    from days
)

select * from final
