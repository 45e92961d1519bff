{#- Keep one row per key: the first by `order_by`. Portable (no QUALIFY), for staging dedupes. -#}
{% macro latest_version(relation, key, order_by) -%}
    select *
    from (
        select
            ranked.*,
            row_number() over (partition by {{ key }} order by {{ order_by }}) as version_rank
        from {{ relation }} as ranked
    ) as versions
    where version_rank = 1
{%- endmacro %}
