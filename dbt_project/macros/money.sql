{#- An amount of money as an exact decimal: two places, as the landing contract writes amounts. Staging
    casts every amount and price once, so sums cannot drift (a sum of doubles depends on the order of its
    rows: 282.55 could come out as 282.54999999999995 and rank below an equal total) and equal totals rank
    as equal. A landing value with more places is rounded to the cent. -#}
{% macro money(expression) -%}
    cast({{ expression }} as decimal(18, 2))
{%- endmacro %}
