{#- Look-up indexes: a table model whose config has `meta: {lookup_index: <column>}` gets an index on that
    column, for the API and the dashboard, which read one customer at a time.

    Not dbt's `indexes` config, nor model hooks. DuckDB cannot rename a table that has an index, and dbt-duckdb
    looks for indexes through duckdb_indexes() before every table swap; with an indexed table being swapped on
    another thread that scan failed ("customer_segments__dbt_backup does not exist"). So the run drops the
    indexes of the models it is about to build before any model starts (on-run-start) and makes every missing
    one after the last (on-run-end), on DuckDB and PostgreSQL alike. A run that fails leaves a table without
    its index until the next run: slower look-ups, never wrong ones. Spark has no indexes: nothing is run. -#}
{% macro _lookup_indexed_models() -%}
    {%- set found = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.meta.get('lookup_index') -%}
        {%- do found.append(node) -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{% macro lookup_index_name(node) -%}
    {{ node.alias }}__{{ node.config.meta['lookup_index'] }}
{%- endmacro %}

{% macro drop_lookup_indexes() -%}
    {%- if execute -%}
        {%- for node in c360._lookup_indexed_models() if node.unique_id in selected_resources -%}
            {%- set sql = c360.drop_lookup_index_sql(node) -%}
            {%- if sql | trim -%}{%- do run_query(sql) -%}{%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{% macro create_lookup_indexes() -%}
    {%- if execute -%}
        {%- for node in c360._lookup_indexed_models() -%}
            {%- set relation = adapter.get_relation(node.database, node.schema, node.alias) -%}
            {%- if relation is not none and relation.is_table -%}
                {%- set sql = c360.create_lookup_index_sql(node, relation) -%}
                {%- if sql | trim -%}{%- do run_query(sql) -%}{%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{% macro drop_lookup_index_sql(node) -%}
    {{ return(adapter.dispatch('drop_lookup_index_sql', 'c360')(node)) }}
{%- endmacro %}

{% macro default__drop_lookup_index_sql(node) -%}
    drop index if exists {{ node.schema }}.{{ c360.lookup_index_name(node) }}
{%- endmacro %}

{% macro create_lookup_index_sql(node, relation) -%}
    {{ return(adapter.dispatch('create_lookup_index_sql', 'c360')(node, relation)) }}
{%- endmacro %}

{% macro default__create_lookup_index_sql(node, relation) -%}
    create index if not exists {{ c360.lookup_index_name(node) }} on {{ relation }} ({{ node.config.meta['lookup_index'] }})
{%- endmacro %}

{% macro spark__drop_lookup_index_sql(node) -%}
{%- endmacro %}

{% macro spark__create_lookup_index_sql(node, relation) -%}
{%- endmacro %}
