"""Date queues, the outbox relay and the consumer."""
