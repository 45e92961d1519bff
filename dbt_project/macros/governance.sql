{#- Per-role masked views of the marts, built from the columns' PII metadata (docs/governance.md).

    Each mart column may carry `meta: {pii: true, pii_category: ..., masking: ...}`:
    - share_marketing.<mart>: PII stays (marketing contacts customers), except `masking: age_band`
      (an age or birth date becomes age_band) and `masking: income_band` (becomes income_band);
    - share_consumer.<mart>: every PII column becomes a salted SHA-256 hex digest (C360_PII_SALT),
      the same value for the same input everywhere, so joins on hashed keys still work.
    Nothing lists columns: a PII column added to a mart's YAML is masked on the next build.
    Run at the end of every dbt invocation for the marts it built (on-run-end). -#}

{#- A salted SHA-256 hex digest of a value (null stays null); each engine spells SHA-256 its own way. -#}
{% macro pii_hash(expression) -%}
    {{ return(adapter.dispatch('pii_hash', 'c360')(expression)) }}
{%- endmacro %}

{#- The salt is C360_PII_SALT, which c360 passes to every dbt invocation (its default is c360_core/settings.py's,
    and only there). -#}
{% macro _pii_salted(expression) -%}
    {%- set salt = env_var('C360_PII_SALT', '') -%}
    {%- if execute and not salt -%}
        {{ exceptions.raise_compiler_error(
            "C360_PII_SALT is not set: run dbt as `c360 dbt ...`, or after eval \"$(.venv/bin/c360 env)\"") }}
    {%- endif -%}
    '{{ salt }}' || cast({{ expression }} as {{ c360.type_text() }})
{%- endmacro %}

{% macro default__pii_hash(expression) -%}
    case when {{ expression }} is not null then sha256({{ _pii_salted(expression) }}) end
{%- endmacro %}

{% macro postgres__pii_hash(expression) -%}
    case when {{ expression }} is not null then encode(sha256(convert_to({{ _pii_salted(expression) }}, 'UTF8')), 'hex') end
{%- endmacro %}

{% macro spark__pii_hash(expression) -%}
    case when {{ expression }} is not null then sha2({{ _pii_salted(expression) }}, 256) end
{%- endmacro %}

{#- A value as the label of the first band whose upper limit it is under ([(limit, label), ...]), else `top`. -#}
{% macro band(expression, limits, top) -%}
    case
        when {{ expression }} is null then null
        {%- for limit, label in limits %}
        when {{ expression }} < {{ limit }} then '{{ label }}'
        {%- endfor %}
        else '{{ top }}'
    end
{%- endmacro %}

{% macro age_band(age) -%}
    {{ band(age, [(18, 'under 18'), (25, '18-24'), (35, '25-34'), (45, '35-44'), (55, '45-54'), (65, '55-64')], '65+') }}
{%- endmacro %}

{% macro income_band(income) -%}
    {{ band(income, [(25000, 'under 25k'), (50000, '25k-50k'), (75000, '50k-75k'), (100000, '75k-100k'),
                     (150000, '100k-150k')], '150k+') }}
{%- endmacro %}

{#- Whole years between a birth date and the as-of date, on either engine. -#}
{% macro age_at_as_of(birth_date) -%}
    (extract(year from {{ as_of_date() }}) - extract(year from {{ birth_date }})
     - case when extract(month from {{ as_of_date() }}) * 100 + extract(day from {{ as_of_date() }})
                 < extract(month from {{ birth_date }}) * 100 + extract(day from {{ birth_date }}) then 1 else 0 end)
{%- endmacro %}

{#- The select list of one share view: (expression, output name) per column, in the mart's order. -#}
{% macro share_columns(node, columns, share) -%}
    {%- set out = [] -%}
    {%- set named = [] -%}
    {%- for column in columns -%}
        {%- set name = column.name -%}
        {%- set meta = (node.columns.get(name) or {}).get('meta') or {} -%}
        {%- set quoted = adapter.quote(name) -%}
        {%- if not meta.get('pii') -%}
            {%- do out.append((quoted, name)) -%}
        {%- elif share == 'consumer' -%}
            {%- do out.append((pii_hash(quoted), name)) -%}
        {%- elif meta.get('masking') == 'age_band' -%}
            {%- set is_date = column.data_type | lower in ['date', 'timestamp', 'timestamp without time zone'] -%}
            {%- set age = age_at_as_of(quoted) if is_date else quoted -%}
            {%- if 'age_band' not in named -%}{%- do out.append((age_band(age), 'age_band')) -%}{%- do named.append('age_band') -%}{%- endif -%}
        {%- elif meta.get('masking') == 'income_band' -%}
            {%- set band = 'income_band' if name == 'annual_income' else name ~ '_band' -%}
            {%- do out.append((income_band(quoted), band)) -%}
        {%- else -%}
            {%- do out.append((quoted, name)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{% macro build_shares(results) %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set marts = [] -%}
    {%- for r in results -%}
        {%- if r.node.resource_type == 'model' and r.node.schema == 'marts' and r.status == 'success' -%}
            {%- do marts.append(graph.nodes[r.node.unique_id]) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not marts -%}{{ return('') }}{%- endif -%}
    {%- for share in ['marketing', 'consumer'] -%}
        {%- do run_query('create schema if not exists share_' ~ share) -%}
    {%- endfor -%}
    {%- for node in marts -%}
        {%- set relation = api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- set columns = adapter.get_columns_in_relation(relation) -%}
        {%- for share in ['marketing', 'consumer'] -%}
            {%- set selected = share_columns(node, columns, share) -%}
            {%- set view = 'share_' ~ share ~ '.' ~ adapter.quote(node.alias) -%}
            {%- do run_query('drop view if exists ' ~ view) -%}
            {%- set body -%}
                create view {{ view }} as select
                {%- for expression, name in selected %}
                    {{ expression }} as {{ adapter.quote(name) }}{{ ',' if not loop.last }}
                {%- endfor %}
                from {{ relation }}
            {%- endset -%}
            {%- do run_query(body) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- do adapter.commit() -%}
{% endmacro %}
