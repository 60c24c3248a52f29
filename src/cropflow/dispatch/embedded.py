"""A lease-based date queue over the batches table, for embedded mode.

A dispatched batch with no ``acked_at`` is a message of its date's queue. A
consumer claims messages in one UPDATE statement that sets a lease (an owner
and an expiry time). While the lease runs, no other consumer can claim them.
An ack records the time; a batch whose lease expired without an ack is
claimed again, so a consumer killed mid-work loses nothing.

kombu's broker-less transports were not used because they return unacked
messages to the queue only on a clean shutdown.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence

from sqlalchemy import and_, case, or_, select, update

from cropflow.dispatch.message import BatchMessage, load_messages
from cropflow.dispatch.queue import Delivery
from cropflow.store.db import Database, utc_now
from cropflow.store.queries import days_with_queued_batches, in_queue, queued_count
from cropflow.store.tables import Batch, BatchStatus

logger = logging.getLogger(__name__)

# A failed message waits this long per failure before it is handed out again,
# so that a handler that fails at once does not spin.
RETRY_DELAY_PER_FAILURE_S = 1.0
MAX_RETRY_DELAY_S = 60.0


class EmbeddedQueue:
    """Date queues kept in the database next to the batches.

    Safe for several consumer processes at once: a claim is one statement, and
    SQLite runs one writer at a time (PostgreSQL skips rows locked by another
    claim). One instance per thread.
    """

    in_database = True

    def __init__(self, db: Database, *, lease_s: float, max_deliveries: int) -> None:
        self.db = db
        self.lease_s = lease_s
        self.max_deliveries = max_deliveries
        self.owner = uuid.uuid4().hex

    def publish(self, messages: Sequence[BatchMessage]) -> None:
        mark_dispatched(self.db, [message.batch_id for message in messages])

    def receive(self, day: dt.date, max_count: int) -> list[Delivery]:
        now = utc_now()
        claimable = (
            select(Batch.id)
            .where(
                Batch.scheduled_date == day,
                in_queue(),
                or_(Batch.lease_expires_at.is_(None), Batch.lease_expires_at <= now),
            )
            .order_by(Batch.id)
            .limit(max_count)
        )
        if not self.db.is_sqlite:
            claimable = claimable.with_for_update(skip_locked=True)

        claim = (
            update(Batch)
            .where(Batch.id.in_(claimable.scalar_subquery()))
            .values(
                lease_owner=self.owner,
                lease_expires_at=now + dt.timedelta(seconds=self.lease_s),
                delivery_count=Batch.delivery_count + 1,
            )
            .returning(Batch.id, Batch.delivery_count)
        )
        with self.db.write_session() as session:
            claimed = dict(session.execute(claim).all())
            messages = load_messages(session, sorted(claimed))

        if claimed:
            logger.debug("Claimed batches %s of %s for %.0f s", sorted(claimed), day, self.lease_s)
        return [
            Delivery(message=message, delivery_count=claimed[message.batch_id], token=self.owner)
            for message in messages
        ]

    def ack(self, delivery: Delivery) -> bool:
        with self.db.write_session() as session:
            result = session.execute(
                update(Batch)
                .where(Batch.id == delivery.batch_id, Batch.lease_owner == delivery.token, Batch.acked_at.is_(None))
                .values(acked_at=utc_now(), lease_owner=None, lease_expires_at=None)
            )
        if result.rowcount == 0:
            logger.warning(
                "Lease on batch %d expired before its ack; it was or will be delivered again",
                delivery.batch_id,
            )
            return False
        return True

    def reject(self, delivery: Delivery, reason: str) -> bool:
        now = utc_now()
        with self.db.write_session() as session:
            batch = session.get(Batch, delivery.batch_id, with_for_update=not self.db.is_sqlite)
            if batch is None or batch.lease_owner != delivery.token or batch.acked_at is not None:
                logger.warning("Lease on batch %d expired before it was rejected", delivery.batch_id)
                return False

            batch.failure_count += 1
            batch.last_error = reason
            batch.lease_owner = None
            if batch.failure_count >= self.max_deliveries:
                batch.dead_lettered_at = now
                batch.lease_expires_at = None
                if batch.status != BatchStatus.DONE:
                    batch.status = BatchStatus.FAILED
                    batch.finished_at = now
                dead = True
            else:
                delay_s = min(RETRY_DELAY_PER_FAILURE_S * batch.failure_count, MAX_RETRY_DELAY_S)
                batch.lease_expires_at = now + dt.timedelta(seconds=delay_s)
                dead = False

        if dead:
            logger.error(
                "Batch %d failed %d times and went to the dead-letter queue: %s",
                delivery.batch_id, self.max_deliveries, reason,
            )
        else:
            logger.warning("Batch %d failed and will be delivered again: %s", delivery.batch_id, reason)
        return dead

    def release(self, delivery: Delivery) -> None:
        with self.db.write_session() as session:
            session.execute(
                update(Batch)
                .where(Batch.id == delivery.batch_id, Batch.lease_owner == delivery.token, Batch.acked_at.is_(None))
                .values(lease_owner=None, lease_expires_at=None)
            )

    def depth(self, day: dt.date) -> int:
        with self.db.session() as session:
            return queued_count(session, day)

    def days_with_messages(self, since: dt.date) -> list[dt.date]:
        with self.db.session() as session:
            return days_with_queued_batches(session, since)

    def close(self) -> None:
        """Nothing to close: the database engine belongs to the caller."""


def mark_dispatched(db: Database, batch_ids: Sequence[int]) -> int:
    """Record that ``batch_ids`` are in their queues; return how many changed."""
    if not batch_ids:
        return 0
    return _mark(db, Batch.id.in_(batch_ids))


def mark_dispatched_range(db: Database, *, plan_id: int, first_id: int, last_id: int) -> int:
    """Record that a plan's batches with ids in [first_id, last_id] are in their queues."""
    return _mark(db, and_(Batch.plan_id == plan_id, Batch.id.between(first_id, last_id)))


def _mark(db: Database, condition) -> int:  # type: ignore[no-untyped-def]
    with db.write_session() as session:
        result = session.execute(
            update(Batch)
            .where(condition, Batch.dispatched_at.is_(None))
            .values(
                dispatched_at=utc_now(),
                # A batch published again (by a relay after a crash) keeps a
                # later status such as done.
                status=case(
                    (Batch.status == BatchStatus.SCHEDULED.value, BatchStatus.DISPATCHED.value), else_=Batch.status
                ),
            )
        )
    return result.rowcount
