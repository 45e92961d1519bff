-- Customer history (SCD type 2): one row per version, valid from its updated_at until the next.
-- The first version is valid from registration, so every order finds the record it was placed under.
with

versions as (
    select * from {{ ref('stg_crm__customer_versions') }}
),

dated as (
    select
        versions.*,
        row_number() over (partition by versions.customer_id order by versions.updated_at) as version_number,
        lead(versions.updated_at) over (partition by versions.customer_id order by versions.updated_at) as valid_to
    from versions
),

final as (
    select
        dated.*,
        case
            when dated.version_number = 1 and dated.registered_at < dated.updated_at then dated.registered_at
            else dated.updated_at
        end as valid_from,
        dated.valid_to is null as is_current
    from dated
)

select * from final
