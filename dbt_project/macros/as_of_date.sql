{#- The date that counts as "today": the as_of_date var, else C360_AS_OF_DATE, else the run date. -#}
{% macro as_of_date() -%}
    {%- set value = var('as_of_date', '') or env_var('C360_AS_OF_DATE', '') or run_started_at.strftime('%Y-%m-%d') -%}
    cast('{{ value }}' as date)
{%- endmacro %}
