-- The Lens stream cart_adds with duration_in_days and activity_repeated_at (macros/lens_activity.sql).
{{ lens_activity('cart_adds') }}
