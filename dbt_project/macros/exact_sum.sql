{#- A sum that comes out the same on every run. Floating-point addition depends on the order of the
    rows, and a parallel aggregation adds them in a different order each time: the last bits of a
    revenue total change from run to run, and with them the ML models' data fingerprints. The values
    are summed as decimals (6 places, exact) and the total is returned as a double. -#}
{% macro exact_sum(expression) -%}
    cast(sum(cast({{ expression }} as decimal(38, 6))) as {{ type_double() }})
{%- endmacro %}
