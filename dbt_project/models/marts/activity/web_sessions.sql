select * from {{ ref('int_web_activity_sessionized') }}
