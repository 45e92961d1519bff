{{ config(materialized=current_state_materialization()) }}
-- The latest CRM record of each customer.
with

versions as (
    select * from {{ ref('stg_crm__customer_versions') }}
),

latest as (
    {{ latest_version('versions', 'customer_id', 'updated_at desc') }}
)

select
    customer_id,
    {{ crm_profile_columns() }}
    date_of_birth,
    registered_at,
    updated_at
from latest
