-- CRM customers (latest version) with age and tenure derived as of the reference date.
with

customers as (
    select * from {{ ref('int_customers_current') }}
),

final as (
    select
        customer_id,
        {{ as_of_date() }} as as_of_date,
        {{ crm_profile_columns() }}
        -- whole years: the calendar years between, less one while this year's birthday is still to come
        -- (days / 365.25 was a year short on some birthdays: 18 of 25,568 birth dates in 1940-2009)
        cast(
            extract(year from {{ as_of_date() }}) - extract(year from date_of_birth)
            - case
                when
                    extract(month from {{ as_of_date() }}) * 100 + extract(day from {{ as_of_date() }})
                    < extract(month from date_of_birth) * 100 + extract(day from date_of_birth)
                    then 1
                else 0
            end
            as integer
        ) as age,
        cast({{ dbt.datediff('cast(registered_at as date)', as_of_date(), 'day') }} as integer) as tenure_days,
        date_of_birth,
        registered_at,
        updated_at
    from customers
)

select * from final
