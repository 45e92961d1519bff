{#- SQL that differs between the engines, one macro each, dispatched by adapter (a third engine adds its own
    implementation here instead of a branch in a model). The default is what DuckDB and PostgreSQL share. -#}

{#- An 8-byte float: `double precision` on DuckDB and PostgreSQL (`float` is 4 bytes on DuckDB), `double`
    on Spark. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'c360')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}

{#- The 1-based position of `needle` in `haystack` (0 when absent): `strpos` on DuckDB and PostgreSQL,
    `instr` on Spark. -#}
{% macro strpos(haystack, needle) -%}
    {{ return(adapter.dispatch('strpos', 'c360')(haystack, needle)) }}
{%- endmacro %}

{% macro default__strpos(haystack, needle) -%}
    strpos({{ haystack }}, {{ needle }})
{%- endmacro %}

{% macro spark__strpos(haystack, needle) -%}
    instr({{ haystack }}, {{ needle }})
{%- endmacro %}
