{#- Compat: dbt-spark's incremental materialization, the one place c360 touches its macros (CHECKED dbt-spark
    1.11.0; tests/test_compat.py fails when the installed version differs: re-read these then).

    The incremental models replace every row of the keys a run recomputes (`delete+insert`, macros/incremental.sql).
    dbt-spark offers `append`, `insert_overwrite` (whole partitions) and `merge` (Delta, Iceberg and Hudi only);
    Parquet tables take no row-level delete. So on Spark, `delete+insert` writes the table's rows whose key the
    new rows do not have, plus the new rows, to a side table, and puts that over the table (`insert overwrite`):
    the same rows as on DuckDB and PostgreSQL, at the cost of rewriting the table (docs/decisions.md). These two
    macros are dbt-spark's own names, which the root project's macros take the place of; every other strategy
    goes to dbt-spark's. -#}

{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) -%}
    {%- if raw_strategy == 'delete+insert' -%}
        {{ return(raw_strategy) }}
    {%- endif -%}
    {{ return(dbt.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)) }}
{%- endmacro %}

{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) -%}
    {%- if strategy == 'delete+insert' -%}
        {{ c360.spark_delete_insert_sql(source, target, unique_key) }}
    {%- else -%}
        {{ dbt.dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) }}
    {%- endif -%}
{%- endmacro %}

{#- The kept and the new rows into `<target>__dbt_merged`, then over the target; the statement dbt runs as the
    model's main one drops the side table. -#}
{% macro spark_delete_insert_sql(source, target, unique_key) -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='name') | join(', ') -%}
    {%- set merged = target.incorporate(path={"identifier": target.identifier ~ '__dbt_merged'}) -%}
    {%- do run_query('drop table if exists ' ~ merged) -%}
    {%- set kept_and_new -%}
        create table {{ merged }} using parquet as
        select {{ columns }} from {{ target }} as old
        where not exists (
            select 1 from {{ source }} as new
            where {% for key in keys %}new.{{ key }} = old.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %}
        )
        union all
        select {{ columns }} from {{ source }}
    {%- endset -%}
    {%- do run_query(kept_and_new) -%}
    {%- do run_query('insert overwrite table ' ~ target ~ ' select ' ~ columns ~ ' from ' ~ merged) -%}
    drop table if exists {{ merged }}
{%- endmacro %}
