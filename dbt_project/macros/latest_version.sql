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

{#- The same, for a large table whose keys seldom repeat (events delivered twice): only the rows of a
    repeated key are ranked, so the table is scanned, never sorted whole. `row_id` lists columns that
    identify a row. Null keys count as one key, as above.
    `lookup_key`: an integer column derived from the key (raw.web_events' activity_key), which the search
    for repeats groups in place of the key: at 1M customers x 1 year, 113M integers rather than 113M UUIDs.
    Rows whose lookup key repeats (a repeated key, or two keys that share one) or is null are ranked by
    the key itself, so the rows kept are the same. -#}
{% macro first_per_key(relation, key, order_by, row_id, lookup_key=none) -%}
    {%- set found_by = lookup_key or key -%}
    select kept.*
    from {{ relation }} as kept
    where not exists (
        select 1
        from (
            select
                {% for column in row_id -%}
                    candidate.{{ column }},
                {% endfor -%}
                row_number() over (partition by candidate.{{ key }} order by {{ order_by }}) as version_rank
            from {{ relation }} as candidate
            where
                candidate.{{ found_by }} is null
                or candidate.{{ found_by }} in (
                    select repeated.{{ found_by }}
                    from {{ relation }} as repeated
                    where repeated.{{ found_by }} is not null
                    group by repeated.{{ found_by }}
                    having count(*) > 1
                )
        ) as later
        where
            later.version_rank > 1
            {% for column in row_id -%}
                and later.{{ column }} = kept.{{ column }}
            {% endfor %}
    )
{%- endmacro %}
