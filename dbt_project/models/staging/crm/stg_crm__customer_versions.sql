-- Every version of every customer: the CRM exports a customer's full record each day it changes.
-- Two records of one customer with the same updated_at are one version (the later file wins).
with

source as (
    select * from {{ source('crm', 'customers') }}
),

versions as (
    {{ latest_version('source', 'customer_id, updated_at', '_source_file desc, _line desc') }}
),

renamed as (
    select
        customer_id,
        {{ crm_profile_columns() }}
        date_of_birth,
        registration_date as registered_at,
        updated_at,
        _loaded_at
    from versions
)

select * from renamed
