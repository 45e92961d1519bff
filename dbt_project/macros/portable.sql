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

{#- Text: `varchar` on DuckDB and PostgreSQL; Spark has `string` (its `varchar` needs a length). -#}
{% macro type_text() -%}
    {{ return(adapter.dispatch('type_text', 'c360')()) }}
{%- endmacro %}

{% macro default__type_text() -%}
    varchar
{%- endmacro %}

{% macro spark__type_text() -%}
    string
{%- endmacro %}

{#- A float rounded to `digits` decimals: PostgreSQL rounds only numerics (`round(double precision, int)` does
    not exist), so DuckDB and PostgreSQL round a numeric; Spark's `numeric` would be decimal(10, 0), and it
    rounds a double. -#}
{% macro round_to(expression, digits) -%}
    {{ return(adapter.dispatch('round_to', 'c360')(expression, digits)) }}
{%- endmacro %}

{% macro default__round_to(expression, digits) -%}
    round(cast({{ expression }} as numeric), {{ digits }})
{%- endmacro %}

{% macro spark__round_to(expression, digits) -%}
    round({{ expression }}, {{ digits }})
{%- endmacro %}

{#- A group's texts joined by `separator` in the given order: `string_agg(x, sep order by k)` on DuckDB and
    PostgreSQL, the SQL standard's `within group (order by k)` on Spark. -#}
{% macro ordered_string_agg(expression, separator, order_by) -%}
    {{ return(adapter.dispatch('ordered_string_agg', 'c360')(expression, separator, order_by)) }}
{%- endmacro %}

{% macro default__ordered_string_agg(expression, separator, order_by) -%}
    string_agg({{ expression }}, {{ separator }} order by {{ order_by }})
{%- endmacro %}

{% macro spark__ordered_string_agg(expression, separator, order_by) -%}
    string_agg({{ expression }}, {{ separator }}) within group (order by {{ order_by }})
{%- endmacro %}
