-- CRM customers (latest version) with age and tenure derived as of the reference date.
with

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

final as (
    select
        customer_id,
        {{ as_of_date() }} as as_of_date,
        first_name,
        last_name,
        gender,
        phone_number,
        email_address,
        education_level,
        marital_status,
        occupation,
        hobbies,
        mailing_street,
        city,
        state,
        country,
        zipcode,
        number_of_children,
        annual_income,
        degree_of_loyalty,
        cast(floor({{ dbt.datediff('date_of_birth', as_of_date(), 'day') }} / 365.25) as integer) as age,
        cast({{ dbt.datediff('cast(registered_at as date)', as_of_date(), 'day') }} as integer) as tenure_days,
        date_of_birth,
        registered_at,
        updated_at
    from customers
)

select * from final
