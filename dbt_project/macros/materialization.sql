{#- How the current state of a versioned source (int_*_current) is kept. DuckDB plans the latest-version
    window straight through a view into the joins that read it, so a view costs nothing to build; PostgreSQL
    planned int_orders_enriched's join over three such views for minutes, so there it is a table. -#}
{% macro current_state_materialization() -%}
    {{ return(adapter.dispatch('current_state_materialization', 'c360')()) }}
{%- endmacro %}

{% macro default__current_state_materialization() -%}
    {{ return('table') }}
{%- endmacro %}

{% macro duckdb__current_state_materialization() -%}
    {{ return('view') }}
{%- endmacro %}
