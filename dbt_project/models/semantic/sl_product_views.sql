-- The Lens stream product_views with duration_in_days and activity_repeated_at (macros/lens_activity.sql).
{{ lens_activity('product_views') }}
