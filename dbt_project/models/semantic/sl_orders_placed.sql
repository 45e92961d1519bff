-- The Lens stream orders_placed with duration_in_days and activity_repeated_at (macros/lens_activity.sql).
{{ lens_activity('orders_placed') }}
