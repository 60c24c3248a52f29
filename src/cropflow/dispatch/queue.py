"""The date-queue interface that the outbox relay and the consumer use.

Two implementations: ``EmbeddedQueue`` keeps the queue in the batches table
(SQLite or PostgreSQL) and ``AmqpQueue`` uses one durable RabbitMQ queue per
grow date. Delivery is at-least-once in both: a message received and not
acked is delivered again, so handlers use ``batch_id`` to stay idempotent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cropflow.dispatch.message import BatchMessage


@dataclass(frozen=True, slots=True)
class Delivery:
    """A message handed to a consumer, to be acked or rejected once."""

    message: BatchMessage
    # How many times this message has been handed out, this time included.
    delivery_count: int
    # The queue's own handle (a lease owner, an AMQP delivery tag).
    token: Any = None

    @property
    def batch_id(self) -> int:
        return self.message.batch_id


class DateQueue(Protocol):
    """Durable per-date queues of batch messages.

    Not thread-safe: use one instance per thread.
    """

    # True when messages are rows of the batches table, so that publishing
    # only marks batches dispatched.
    in_database: bool

    def publish(self, messages: Sequence[BatchMessage]) -> None:
        """Publish ``messages``; return only once the queue has stored every one."""
        ...

    def receive(self, day: dt.date, max_count: int) -> list[Delivery]:
        """Hand out up to ``max_count`` messages of ``day`` without waiting."""
        ...

    def ack(self, delivery: Delivery) -> bool:
        """Remove a handled message; False if it was meanwhile handed to another consumer."""
        ...

    def reject(self, delivery: Delivery, reason: str) -> bool:
        """Return a failed message for a later retry, or dead-letter it after too many.

        Returns True when the message went to the dead-letter queue.
        """
        ...

    def release(self, delivery: Delivery) -> None:
        """Return a message unhandled, for immediate delivery to any consumer, without counting a failure."""
        ...

    def depth(self, day: dt.date) -> int:
        """Count the messages of ``day`` not acked yet, including those being handled."""
        ...

    def days_with_messages(self, since: dt.date) -> list[dt.date]:
        """Return the grow dates from ``since`` on whose queues hold messages, in order."""
        ...

    def close(self) -> None: ...
