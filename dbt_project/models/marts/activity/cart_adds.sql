-- Lens activity stream: add_to_cart events with the product and brand they concern.
{{ activity_stream('add_to_cart') }}
