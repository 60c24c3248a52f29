"""Date queues on RabbitMQ: one durable queue per grow date.

Messages go to the durable direct exchange ``cropflow.batches`` with the grow
date (``2027-01-15``) as routing key, and from there to the queue
``batch-queue-2027-01-15``. They are persistent and published with
publisher confirms, pipelined: a whole chunk is sent before the confirms are
awaited, and ``publish`` returns only when the broker confirmed every one.

Acks and failures are also recorded in the batches table, for two things
RabbitMQ alone does not give. First, a date is finished only when every one
of its messages was acked by some consumer; RabbitMQ's message count leaves
out messages that other consumers hold unacked. Second, a message that keeps
failing, or keeps killing its consumer, is counted across redeliveries on any
queue type and dead-lettered with its reason.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import amqp
import kombu
from amqp.exceptions import ChannelError, NotFound, PreconditionFailed
from kombu.exceptions import OperationalError as KombuOperationalError
from sqlalchemy import select, update

from cropflow.dispatch.message import CONTENT_TYPE, BatchMessage
from cropflow.dispatch.queue import Delivery
from cropflow.errors import DispatchError, QueueMismatchError, QueueUnavailableError
from cropflow.settings import Settings
from cropflow.store.db import Database, utc_now
from cropflow.store.queries import days_with_queued_batches, queued_count
from cropflow.store.tables import Batch, BatchStatus

logger = logging.getLogger(__name__)

PERSISTENT = 2
DEAD_LETTER_ROUTING_KEY = "dead-letters"
# Messages published before the confirms of the chunk are awaited.
CONFIRM_WINDOW = 2_000
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    KombuOperationalError,
    ConnectionError,
    socket.error,
    amqp.exceptions.ConnectionError,
    amqp.exceptions.RecoverableConnectionError,
)


class AmqpQueue:
    """Per-date RabbitMQ queues, with acks and failures recorded in the database.

    One instance per thread: a kombu connection is not thread-safe.
    """

    in_database = False

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.exchange_name = settings.exchange_name
        self.queue_prefix = settings.queue_prefix
        self.dead_letter_queue = f"{settings.queue_prefix}{DEAD_LETTER_ROUTING_KEY}"
        self._connection: kombu.Connection | None = None
        self._channel: Any = None
        self._confirms: _ConfirmTracker | None = None
        self._declared: set[str] = set()

    @classmethod
    def from_settings(cls, settings: Settings, db: Database) -> AmqpQueue:
        return cls(settings, db)

    # -- publishing -------------------------------------------------------

    def publish(self, messages: Sequence[BatchMessage]) -> None:
        if not messages:
            return
        with self._translate_errors():
            channel = self._publish_channel()
            for day in sorted({message.scheduled_date for message in messages}):
                self._declare_date_queue(day)
            for start in range(0, len(messages), CONFIRM_WINDOW):
                self._publish_window(channel, messages[start : start + CONFIRM_WINDOW])
        logger.debug("Published %d messages with confirms", len(messages))

    def _publish_window(self, channel: Any, messages: Sequence[BatchMessage]) -> None:
        for message in messages:
            channel.basic_publish(
                amqp.Message(
                    message.encode(),
                    content_type=CONTENT_TYPE,
                    delivery_mode=PERSISTENT,
                    message_id=str(message.batch_id),
                ),
                exchange=self.exchange_name,
                routing_key=message.scheduled_date.isoformat(),
            )
            self._confirm_tracker().sent()
        self._confirm_tracker().wait(self._connect(), timeout_s=self.settings.confirm_timeout_s)

    # -- consuming --------------------------------------------------------

    def receive(self, day: dt.date, max_count: int) -> list[Delivery]:
        deliveries = []
        with self._translate_errors():
            if not self._queue_exists(day):
                return []
            channel = self._consume_channel()
            for _ in range(max_count):
                raw = channel.basic_get(queue=self.queue_name(day), no_ack=False)
                if raw is None:
                    break
                delivery = self._to_delivery(raw)
                if delivery is not None:
                    deliveries.append(delivery)
        return deliveries

    def _to_delivery(self, raw: amqp.Message) -> Delivery | None:
        message = _decode(raw)
        if message is None:
            self._dead_letter_raw(raw, "message is not a cropflow batch message (invalid JSON or fields)")
            return None

        delivery_count = self._count_delivery(message.batch_id)
        delivery = Delivery(message=message, delivery_count=delivery_count, token=raw.delivery_tag)
        # A message delivered this often without an ack or a reject has been
        # killing its consumers: stop handing it out.
        if delivery_count > self.settings.max_deliveries + 1:
            self._dead_letter(delivery, f"delivered {delivery_count - 1} times without an ack")
            return None
        return delivery

    def ack(self, delivery: Delivery) -> bool:
        # The database first: if the process dies before the broker ack, the
        # message comes back and the consumer skips a batch that is done.
        with self.db.write_session() as session:
            session.execute(
                update(Batch)
                .where(Batch.id == delivery.batch_id, Batch.acked_at.is_(None))
                .values(acked_at=utc_now())
            )
        with self._translate_errors():
            self._consume_channel().basic_ack(delivery.token)
        return True

    def reject(self, delivery: Delivery, reason: str) -> bool:
        with self.db.write_session() as session:
            failures = session.execute(
                update(Batch)
                .where(Batch.id == delivery.batch_id)
                .values(failure_count=Batch.failure_count + 1, last_error=reason)
                .returning(Batch.failure_count)
            ).scalar_one_or_none() or 0

        if failures >= self.settings.max_deliveries:
            self._dead_letter(delivery, reason)
            return True

        logger.warning(
            "Batch %d failed (%d of %d) and will be delivered again: %s",
            delivery.batch_id, failures, self.settings.max_deliveries, reason,
        )
        with self._translate_errors():
            self._consume_channel().basic_reject(delivery.token, requeue=True)
        return False

    def release(self, delivery: Delivery) -> None:
        with self._translate_errors():
            self._consume_channel().basic_reject(delivery.token, requeue=True)

    def _dead_letter(self, delivery: Delivery, reason: str) -> None:
        now = utc_now()
        with self._translate_errors():
            self._publish_dead_letter(delivery.message.encode(), str(delivery.batch_id), reason)
        with self.db.write_session() as session:
            session.execute(
                update(Batch)
                .where(Batch.id == delivery.batch_id)
                .values(dead_lettered_at=now, last_error=reason)
            )
            session.execute(
                update(Batch)
                .where(Batch.id == delivery.batch_id, Batch.status != BatchStatus.DONE.value)
                .values(status=BatchStatus.FAILED.value, finished_at=now)
            )
        with self._translate_errors():
            self._consume_channel().basic_ack(delivery.token)
        logger.error("Batch %d went to the dead-letter queue %s: %s", delivery.batch_id, self.dead_letter_queue, reason)

    def _dead_letter_raw(self, raw: amqp.Message, reason: str) -> None:
        message_id = raw.properties.get("message_id", "")
        with self._translate_errors():
            self._publish_dead_letter(raw.body, message_id, reason)
            self._consume_channel().basic_ack(raw.delivery_tag)
        logger.error("Message %r went to the dead-letter queue %s: %s", message_id, self.dead_letter_queue, reason)

    def _publish_dead_letter(self, body: bytes, message_id: str, reason: str) -> None:
        self._declare_dead_letter_queue()
        channel = self._publish_channel()
        channel.basic_publish(
            amqp.Message(
                body,
                content_type=CONTENT_TYPE,
                delivery_mode=PERSISTENT,
                message_id=message_id,
                application_headers={"x-cropflow-reason": reason[:1000]},
            ),
            exchange=self.exchange_name,
            routing_key=DEAD_LETTER_ROUTING_KEY,
        )
        self._confirm_tracker().sent()
        self._confirm_tracker().wait(self._connect(), timeout_s=self.settings.confirm_timeout_s)

    def _count_delivery(self, batch_id: int) -> int:
        with self.db.write_session() as session:
            count = session.execute(
                update(Batch)
                .where(Batch.id == batch_id)
                .values(delivery_count=Batch.delivery_count + 1)
                .returning(Batch.delivery_count)
            ).scalar_one_or_none()
        return count or 1

    # -- depth ------------------------------------------------------------

    def ready_count(self, day: dt.date) -> int:
        """Return the count of ``day``'s messages ready for delivery in RabbitMQ (0 without a queue)."""
        with self._translate_errors():
            try:
                return self._passive_declare(self.queue_name(day))
            except NotFound:
                return 0

    def depth(self, day: dt.date) -> int:
        with self.db.session() as session:
            unacked = queued_count(session, day)
        return max(unacked, self.ready_count(day))

    def days_with_messages(self, since: dt.date) -> list[dt.date]:
        with self.db.session() as session:
            return days_with_queued_batches(session, since)

    # -- declarations -----------------------------------------------------

    def queue_name(self, day: dt.date) -> str:
        return f"{self.queue_prefix}{day.isoformat()}"

    def queue_arguments(self) -> dict[str, Any]:
        """Arguments every date queue is declared with, the same in every process."""
        return {"x-queue-type": self.settings.queue_type}

    def _declare_date_queue(self, day: dt.date) -> None:
        self._declare(self.queue_name(day), routing_key=day.isoformat())

    def _declare_dead_letter_queue(self) -> None:
        self._declare(self.dead_letter_queue, routing_key=DEAD_LETTER_ROUTING_KEY)

    def _declare(self, name: str, *, routing_key: str) -> None:
        if name in self._declared:
            return
        channel = self._publish_channel()
        try:
            channel.exchange_declare(self.exchange_name, "direct", durable=True, auto_delete=False)
            channel.queue_declare(
                name, durable=True, exclusive=False, auto_delete=False, arguments=self.queue_arguments()
            )
        except PreconditionFailed as exc:
            self._reset_channels()
            raise QueueMismatchError(
                f"Queue {name} exists with other arguments than cropflow declares "
                f"({self.queue_arguments()}): {exc.reply_text}. Set CROPFLOW_QUEUE_TYPE to match it, "
                "or delete the queue once it is empty."
            ) from exc
        channel.queue_bind(name, self.exchange_name, routing_key=routing_key)
        self._declared.add(name)
        logger.debug("Declared queue %s bound to %s with key %s", name, self.exchange_name, routing_key)

    def _queue_exists(self, day: dt.date) -> bool:
        try:
            self._passive_declare(self.queue_name(day))
        except NotFound:
            return False
        return True

    def _passive_declare(self, name: str) -> int:
        """Return the ready message count of queue ``name``; raise NotFound if it does not exist."""
        # A failed passive declare closes its channel, so it gets its own.
        connection = self._connect()
        channel = connection.channel()
        try:
            _, message_count, _ = channel.queue_declare(name, passive=True)
        except NotFound:
            raise
        except ChannelError:
            return 0
        finally:
            _close_quietly(channel)
        return message_count

    def dates_published(self, *, before: dt.date) -> list[dt.date]:
        """Return the grow dates before ``before`` that batches were published for."""
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(Batch.scheduled_date)
                    .where(Batch.dispatched_at.is_not(None), Batch.scheduled_date < before)
                    .distinct()
                    .order_by(Batch.scheduled_date)
                )
            )

    def delete_if_empty(self, name: str) -> bool:
        """Delete queue ``name`` unless it contains messages or has consumers; True if deleted."""
        with self._translate_errors():
            connection = self._connect()
            channel = connection.channel()
            try:
                channel.queue_delete(name, if_unused=True, if_empty=True)
            except NotFound:
                return False
            except PreconditionFailed:
                logger.info("Queue %s still contains messages or has consumers; kept", name)
                return False
            finally:
                _close_quietly(channel)
        self._declared.discard(name)
        return True

    # -- connection -------------------------------------------------------

    def _connect(self) -> kombu.Connection:
        if self._connection is None or not self._connection.connected:
            self._reset_channels()
            connection = kombu.Connection(self.settings.broker_url, connect_timeout=10, heartbeat=0)
            connection.ensure_connection(
                max_retries=3, interval_start=0.5, interval_step=1, errback=_log_connection_retry
            )
            self._connection = connection
        return self._connection

    def _publish_channel(self) -> Any:
        connection = self._connect()
        if self._channel is None:
            self._channel = connection.channel()
            self._channel.confirm_select()
            self._confirms = _ConfirmTracker(self._channel)
        return self._channel

    _consume_channel = _publish_channel

    def _confirm_tracker(self) -> _ConfirmTracker:
        self._publish_channel()
        assert self._confirms is not None, "the publish channel sets up its confirm tracker"
        return self._confirms

    def _reset_channels(self) -> None:
        if self._channel is not None:
            _close_quietly(self._channel)
        self._channel = None
        self._declared.clear()
        if self._connection is not None:
            _close_quietly(self._connection)
        self._connection = None

    @contextmanager
    def _translate_errors(self) -> Iterator[None]:
        try:
            yield
        except CONNECTION_ERRORS as exc:
            self._reset_channels()
            raise QueueUnavailableError(
                f"RabbitMQ at {_redact(self.settings.broker_url)} is unreachable: {exc}. "
                "Check CROPFLOW_BROKER_URL and that the broker is running."
            ) from exc
        except (QueueMismatchError, DispatchError):
            raise
        except amqp.exceptions.AMQPError as exc:
            self._reset_channels()
            raise DispatchError(f"RabbitMQ rejected an operation: {exc}") from exc

    def close(self) -> None:
        self._reset_channels()


class _ConfirmTracker:
    """Tracks publisher confirms of one confirm-mode channel.

    The broker numbers the messages of a channel 1, 2, 3... from
    ``confirm.select`` on and acks or nacks them, several at once when
    ``multiple`` is set.
    """

    def __init__(self, channel: Any) -> None:
        self.channel = channel
        self.last_tag = 0
        self.outstanding: set[int] = set()
        self.nacked: set[int] = set()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)

    def sent(self) -> None:
        self.last_tag += 1
        self.outstanding.add(self.last_tag)

    def _settle(self, delivery_tag: int, multiple: bool) -> set[int]:
        settled = {tag for tag in self.outstanding if tag <= delivery_tag} if multiple else {delivery_tag}
        self.outstanding -= settled
        return settled

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self.nacked |= self._settle(delivery_tag, multiple)

    def wait(self, connection: kombu.Connection, *, timeout_s: float) -> None:
        """Return once every message sent so far is confirmed; raise if one was nacked."""
        deadline = time.monotonic() + timeout_s
        while self.outstanding:
            remaining_s = deadline - time.monotonic()
            if remaining_s <= 0:
                raise DispatchError(
                    f"RabbitMQ did not confirm {len(self.outstanding)} messages within {timeout_s} s"
                )
            try:
                connection.drain_events(timeout=remaining_s)
            except TimeoutError:
                continue
        if self.nacked:
            count = len(self.nacked)
            self.nacked.clear()
            raise DispatchError(f"RabbitMQ rejected {count} messages (basic.nack); they stay in the outbox")


def _decode(raw: amqp.Message) -> BatchMessage | None:
    import json

    try:
        payload = json.loads(raw.body)
        return BatchMessage(
            batch_id=int(payload["batch_id"]),
            scheduled_date=dt.date.fromisoformat(payload["scheduled_date"]),
            payload=payload,
        )
    except (ValueError, KeyError, TypeError):
        return None


def _close_quietly(resource: Any) -> None:
    try:
        resource.close()
    except Exception:
        logger.debug("Ignored an error while closing %r", resource, exc_info=True)


def _redact(url: str) -> str:
    return kombu.utils.url.maybe_sanitize_url(url)


def _log_connection_retry(exc: Exception, interval_s: float) -> None:
    logger.warning("Cannot reach RabbitMQ (%s); retrying in %.1f s", exc, interval_s)


