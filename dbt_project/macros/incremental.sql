{#- The load watermark of an incremental model: the newest raw load it has already taken in.
    Every raw row carries _loaded_at; loads and builds never overlap (one writer), so rows loaded
    after this value are exactly the rows the model has not seen. -#}
{% macro watermark() -%}
    (select coalesce(max(_loaded_at), cast('1900-01-01' as timestamp)) from {{ this }})
{%- endmacro %}

{#- Config shared by the incremental models: replace every row of the keys a run recomputes, and record
    the watermark before the build so its tests can read only the new rows (macros/test_window.sql).
    The tag selects them (`tag:incremental`, in dbt and in Dagster): the hourly cycle of make bench.
    on_schema_change is the folder's (dbt_project.yml): `fail`, except in the marts, whose contract checks
    the SQL's columns and types on every run. -#}
{% macro incremental_config(unique_key) -%}
    {{ config(materialized='incremental', unique_key=unique_key, incremental_strategy='delete+insert',
              pre_hook="{{ record_test_window() }}", tags=['incremental']) }}
{%- endmacro %}
