{#- How the current state of a versioned source (int_*_current) is kept: a table, on every engine. Its
    latest-version window is then computed once per build. As views they were computed again inside every
    model that read them: on PostgreSQL int_orders_enriched's join over three such views was planned for
    minutes; on DuckDB at 1M customers a full rebuild of int_orders_enriched ran out of memory at the 3 GB
    limit with the window inside its plan, and takes 18 s reading the table (docs/decisions.md). A dispatch
    point all the same, for an engine that would rather keep them views. -#}
{% macro current_state_materialization() -%}
    {{ return(adapter.dispatch('current_state_materialization', 'c360')()) }}
{%- endmacro %}

{% macro default__current_state_materialization() -%}
    {{ return('table') }}
{%- endmacro %}
