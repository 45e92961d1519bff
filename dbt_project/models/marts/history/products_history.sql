-- Product history (SCD type 2): one row per run of weekly snapshots that show the product the
-- same way, valid from the first such snapshot until the next change. The first version is valid
-- from launch, so orders placed before the product's first snapshot find it.
with

snapshots as (
    select
        versions.*,
        md5(concat_ws(
            '|', versions.sku_id, versions.brand_id, versions.product_name, versions.product_category, versions.product_subcategory, versions.product_colour,
            versions.product_size, cast(versions.list_price as {{ type_text() }}), cast(versions.sale_price as {{ type_text() }})
        )) as attributes_hash
    from {{ ref('stg_catalog__product_versions') }} as versions
),

changes as (
    select
        snapshots.*,
        lag(snapshots.attributes_hash) over (partition by snapshots.product_id order by snapshots.snapshot_date) as previous_hash
    from snapshots
),

versions as (
    select
        changes.*,
        row_number() over (partition by changes.product_id order by changes.snapshot_date) as version_number,
        lead(changes.snapshot_date) over (partition by changes.product_id order by changes.snapshot_date) as next_snapshot_date
    from changes
    where changes.previous_hash is null or changes.previous_hash <> changes.attributes_hash
),

final as (
    select
        product_id,
        version_number,
        {{ catalog_product_columns() }}
        list_price,
        sale_price,
        launched_at,
        case
            when version_number = 1 and launched_at < snapshot_date then launched_at
            else cast(snapshot_date as timestamp)
        end as valid_from,
        cast(next_snapshot_date as timestamp) as valid_to,
        next_snapshot_date is null as is_current,
        _loaded_at
    from versions
)

select * from final
