-- Lens activity stream: order_placed events with the product and brand they concern.
{{ activity_stream('order_placed') }}
