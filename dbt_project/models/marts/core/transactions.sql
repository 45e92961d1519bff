select * from {{ ref('stg_payments__transactions') }}
