-- Lens activity stream: product_view events with the product and brand they concern.
{{ activity_stream('product_view') }}
