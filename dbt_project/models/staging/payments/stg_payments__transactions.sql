-- Payments and refunds (negative amounts); one row per transaction id.
with

source as (
    select
        *,
        max(_loaded_at) over (partition by transaction_id) as last_loaded_at
    from {{ source('payments', 'transactions') }}
),

deduped as (
    {{ latest_version('source', 'transaction_id', '_source_file desc, _line desc') }}
),

renamed as (
    select
        transaction_id,
        order_id,
        payment_method,
        {{ money('amount') }} as amount,
        amount < 0 as is_refund,
        transaction_ts as transacted_at,
        last_loaded_at as _loaded_at
    from deduped
)

select * from renamed
