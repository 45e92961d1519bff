-- The CRM exports a customer's full record each day it changes: keep the latest version.
with

source as (
    select * from {{ source('crm', 'customers') }}
),

latest as (
    {{ latest_version('source', 'customer_id', 'updated_at desc, _source_file desc, _line desc') }}
),

renamed as (
    select
        customer_id,
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
        date_of_birth,
        registration_date as registered_at,
        updated_at
    from latest
)

select * from renamed
