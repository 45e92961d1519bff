{#- dbt's hook for a test's `where` config, extended with one placeholder: `__recent_loads__`, the rows
    loaded in the day before the table's newest load. The big incremental web models test only those:
    an hourly run then reads a day of rows, not the year. A key repeated across loads is caught where it
    enters, by raw.web_events' contract (activity_uuid_unique_across_batches, blocking), and the models
    replace the sessions they recompute. The first build's rows are all recent: it is tested whole. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- if '__recent_loads__' in where -%}
            {%- set recent = "_loaded_at >= (select max(_loaded_at) from " ~ relation ~ ") - interval '1 day'" -%}
            {%- set where = where | replace('__recent_loads__', recent) -%}
        {%- endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
