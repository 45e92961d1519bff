{#- Finding a batch's event ids among a year of kept events, in time that follows the batch, not the year.

    `event_key`: the hex digits of an id's first 18 characters, dashes left out, as an unsigned integer (of a
    UUID: its first 64 bits); null when they are no hex number of 64 bits. A look-up key, not an identity:
    the look-up below compares the whole ids of the rows it finds.
    Only DuckDB computes it: scanning 113M VARCHAR ids took 2-5 s (decompressing them); their integer keys
    0.2 s. PostgreSQL and Spark look the ids up directly, and keep the column null. -#}
{% macro event_key(id) -%}
    {{ return(adapter.dispatch('event_key', 'c360')(id)) }}
{%- endmacro %}

{% macro default__event_key(id) -%}
    cast(null as bigint)
{%- endmacro %}

{% macro duckdb__event_key(id) -%}
    try_cast('0x' || replace(substr({{ id }}, 1, 18), '-', '') as ubigint)
{%- endmacro %}

{#- The rows of `relation` (events: activity_uuid, activity_key) whose activity_uuid is one of the batch's
    (a relation or CTE with an activity_uuid column): their `columns`. -#}
{% macro events_with_ids(relation, batch, columns) -%}
    {{ return(adapter.dispatch('events_with_ids', 'c360')(relation, batch, columns)) }}
{%- endmacro %}

{% macro default__events_with_ids(relation, batch, columns) -%}
    select {% for c in columns %}kept.{{ c }}{{ ", " if not loop.last }}{% endfor %}
    from {{ relation }} as kept
    where kept.activity_uuid in (select batch.activity_uuid from {{ batch }} as batch)
{%- endmacro %}

{#- DuckDB: the rows whose key is one of the batch's keys, found in the key column alone, then fetched by
    row id (the row-id filter skips every other row group); the outer query compares the whole ids. An id
    with no key is looked up whole among the rows with no key (none, in a table of UUIDs: their row groups'
    statistics skip them all). -#}
{% macro duckdb__events_with_ids(relation, batch, columns) -%}
    select {% for c in columns %}kept.{{ c }}{{ ", " if not loop.last }}{% endfor %}
    from {{ relation }} as kept
    where kept.rowid in (
        select candidate.rowid
        from {{ relation }} as candidate
        where candidate.activity_key in (select {{ c360.event_key('batch.activity_uuid') }} from {{ batch }} as batch)
    )
    union all
    select {% for c in columns %}kept.{{ c }}{{ ", " if not loop.last }}{% endfor %}
    from {{ relation }} as kept
    where
        kept.activity_key is null
        and kept.activity_uuid in (
            select batch.activity_uuid from {{ batch }} as batch
            where {{ c360.event_key('batch.activity_uuid') }} is null
        )
{%- endmacro %}
