select * from {{ ref('stg_shop__order_line_items') }}
