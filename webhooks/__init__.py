"""Business webhooks (docs/serving.md): subscriptions, an outbox of events found in the warehouse, and signed
deliveries with retries, each attempt logged. Below orchestration, serving and the CLI, which all use it."""
