{#- Tests that scale with the batch. An incremental model records, before each build, the newest load it
    already held (record_test_window, a pre-hook of every incremental model); a test whose `where` config
    is the placeholder `__new_rows__` then reads only the rows with a newer _loaded_at: exactly the rows
    that build inserted or recomputed (an incremental model's rows carry the load time of their newest
    input row, and it takes only rows loaded after its watermark). A first build or a full refresh
    records no watermark, so its tests read the whole table. With the var c360_test_window=all, or
    C360_TEST_WINDOW=all (the daily quality_full job), every test reads every row.
    A key repeated across loads is caught where it enters, by raw.web_events' contract
    (activity_uuid_unique_across_batches, blocking), and the models replace the keys they recompute. -#}

{% macro test_windows_table() -%}
    audit.dbt_test_windows
{%- endmacro %}

{#- Created once per invocation, before any node (on-run-start): with two dbt threads, two incremental
    models' pre-hooks creating it at once would conflict in DuckDB's catalog. One statement per hook on Spark. -#}
{% macro create_test_windows_table() -%}
    {{ return(adapter.dispatch('create_test_windows_table', 'c360')()) }}
{%- endmacro %}

{% macro default__create_test_windows_table() -%}
    create schema if not exists audit;
    create table if not exists {{ test_windows_table() }} (
        relation varchar(200) primary key, tested_since timestamp, recorded_at timestamp
    )
{%- endmacro %}

{% macro spark__create_test_windows_table() -%}
    {%- do run_query('create schema if not exists audit') -%}
    create table if not exists {{ test_windows_table() }} (
        relation string, tested_since timestamp, recorded_at timestamp
    ) using parquet
{%- endmacro %}

{#- Each model's newest window replaces its last one; on Spark, which cannot delete from a Parquet table, it
    is appended, and readers take the newest (get_where_subquery). -#}
{% macro record_test_window() -%}
    {{ return(adapter.dispatch('record_test_window', 'c360')()) }}
{%- endmacro %}

{% macro default__record_test_window() -%}
    {%- set key = this.schema ~ '.' ~ this.identifier -%}
    delete from {{ test_windows_table() }} where relation = '{{ key }}';
    {{ c360._insert_test_window(key) }}
{%- endmacro %}

{% macro spark__record_test_window() -%}
    {{ c360._insert_test_window(this.schema ~ '.' ~ this.identifier) }}
{%- endmacro %}

{% macro _insert_test_window(key) -%}
    insert into {{ test_windows_table() }} (relation, tested_since, recorded_at)
    select
        '{{ key }}',
        {% if is_incremental() -%}
            (select max(_loaded_at) from {{ this }})
        {%- else -%}
            cast(null as timestamp)
        {%- endif %},
        current_timestamp
{%- endmacro %}

{#- dbt's hook for a test's `where` config, extended with the `__new_rows__` placeholder. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- if '__new_rows__' in where -%}
            {%- if var('c360_test_window', env_var('C360_TEST_WINDOW', 'new')) == 'all' -%}
                {%- set new_rows = '1 = 1' -%}
            {%- else -%}
                {%- set new_rows -%}
                    _loaded_at > coalesce(
                        (select w.tested_since from {{ test_windows_table() }} as w
                         where w.relation = '{{ relation.schema }}.{{ relation.identifier }}'
                         order by w.recorded_at desc limit 1),
                        cast('1900-01-01' as timestamp))
                {%- endset -%}
            {%- endif -%}
            {%- set where = where | replace('__new_rows__', new_rows) -%}
        {%- endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
