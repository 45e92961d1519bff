-- The latest version of each customer.
with

versions as (
    select * from {{ ref('stg_crm__customer_versions') }}
),

latest as (
    {{ latest_version('versions', 'customer_id', 'updated_at desc') }}
)

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
    registered_at,
    updated_at
from latest
