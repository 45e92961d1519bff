{#- Column lists that several models pass on unchanged from a source system: one list each, in the export's
    order, so a column added to a source is added once. Each column is followed by a comma. -#}

{#- A CRM customer's profile attributes (the customer versions, the current customers, the customers mart). -#}
{% macro crm_profile_columns() -%}
    {{ _column_list([
        'first_name', 'last_name', 'gender', 'phone_number', 'email_address', 'education_level',
        'marital_status', 'occupation', 'hobbies', 'mailing_street', 'city', 'state', 'country', 'zipcode',
        'number_of_children', 'annual_income', 'degree_of_loyalty'
    ]) }}
{%- endmacro %}

{#- A catalogue product's descriptive attributes (the product versions, the current products, the history). -#}
{% macro catalog_product_columns() -%}
    {{ _column_list([
        'sku_id', 'brand_id', 'product_name', 'product_category', 'product_subcategory', 'product_colour',
        'product_size'
    ]) }}
{%- endmacro %}

{#- An order's identifiers and text attributes (the order versions, the current orders). -#}
{% macro shop_order_columns() -%}
    {{ _column_list([
        'customer_id', 'transaction_id', 'order_status', 'payment_method', 'billing_address', 'shipping_address'
    ]) }}
{%- endmacro %}

{% macro _column_list(columns) -%}
    {%- for column in columns %}
    {{ column }},
    {%- endfor %}
{%- endmacro %}
