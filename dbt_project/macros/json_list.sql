{#- A group's values as a JSON array text in the given order, e.g. ["P000123","P000456"]: one column type on
    every engine (a list on DuckDB and an array on PostgreSQL would differ). -#}
{% macro json_list(expression, order_by) -%}
    {{ return(adapter.dispatch('json_list', 'c360')(expression, order_by)) }}
{%- endmacro %}

{% macro default__json_list(expression, order_by) -%}
    cast(to_json(list({{ expression }} order by {{ order_by }})) as varchar)
{%- endmacro %}

{% macro postgres__json_list(expression, order_by) -%}
    cast(json_agg({{ expression }} order by {{ order_by }}) as varchar)
{%- endmacro %}

{#- Spark: the (order, value) pairs sorted, then their values. -#}
{% macro spark__json_list(expression, order_by) -%}
    to_json(transform(array_sort(collect_list(struct({{ order_by }} as k, {{ expression }} as v))), p -> p.v))
{%- endmacro %}
