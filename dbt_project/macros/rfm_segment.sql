{#- Named RFM segments from the three scores; null scores (no counted order) are Prospects. -#}
{% macro rfm_segment(recency, frequency, monetary) -%}
    case
        when {{ recency }} is null then 'Prospect'
        when {{ recency }} >= 4 and {{ frequency }} >= 4 and {{ monetary }} >= 4 then 'Champions'
        when {{ recency }} >= 3 and {{ frequency }} >= 4 then 'Loyal Customers'
        when {{ recency }} >= 4 and {{ frequency }} <= 2 then 'New Customers'
        when {{ recency }} >= 3 and {{ frequency }} >= 2 then 'Potential Loyalists'
        when {{ recency }} <= 2 and {{ frequency }} >= 4 then 'Cannot Lose Them'
        when {{ recency }} <= 2 and {{ frequency }} >= 2 then 'At Risk'
        else 'Hibernating'
    end
{%- endmacro %}
