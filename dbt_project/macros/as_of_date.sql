{#- The date that counts as "today": the as_of_date var (dbt unit tests set it), else C360_AS_OF_DATE, which
    c360 passes to every dbt invocation (c360_core/settings.py decides it: today unless set; it is defined
    there only). dbt run without it fails here, naming the way in; a parse (no SQL runs) does not need it. -#}
{% macro as_of_date() -%}
    {%- set value = var('as_of_date', '') or env_var('C360_AS_OF_DATE', '') -%}
    {%- if execute and not value -%}
        {{ exceptions.raise_compiler_error(
            "C360_AS_OF_DATE is not set: run dbt as `c360 dbt ...`, or after eval \"$(.venv/bin/c360 env)\"") }}
    {%- endif -%}
    cast('{{ value or "1970-01-01" }}' as date)
{%- endmacro %}
