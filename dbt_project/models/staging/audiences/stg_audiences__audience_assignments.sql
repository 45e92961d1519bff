-- The members of every audience, as the Dagster asset marts/audience_assignments last evaluated them.
with

source as (
    select * from {{ source('audiences', 'audience_assignments') }}
),

renamed as (
    select
        customer_id,
        segment_name,
        reason,
        evaluated_at
    from source
)

select * from renamed
