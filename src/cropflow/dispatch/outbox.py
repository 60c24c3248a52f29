"""The outbox relay: publish batches that have no ``dispatched_at`` yet.

A batch is committed before it is published, and marked dispatched only after
the queue confirmed it. A crash in between leaves it in the outbox, and the
next relay run publishes it again: delivery is at-least-once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence

from sqlalchemy import func, select

from cropflow.dispatch.embedded import mark_dispatched, mark_dispatched_range
from cropflow.dispatch.message import load_messages
from cropflow.dispatch.queue import DateQueue
from cropflow.store.db import Database
from cropflow.store.tables import Batch

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int], None]
# Batches marked per statement when the queue is the batches table.
IN_DATABASE_CHUNK_SIZE = 50_000


def relay(
    db: Database,
    queue: DateQueue,
    *,
    plan_id: int | None = None,
    lot_ids: Sequence[int] | None = None,
    created_before: dt.datetime | None = None,
    chunk_size: int = 5_000,
    on_progress: ProgressCallback | None = None,
) -> int:
    """Publish every undispatched batch (of one plan, some lots, or created before a time).

    Returns the number of batches marked dispatched by this call.
    """
    if queue.in_database and plan_id is not None and lot_ids is None and created_before is None:
        return _mark_plan_dispatched(db, plan_id, chunk_size=IN_DATABASE_CHUNK_SIZE, on_progress=on_progress)

    dispatched = 0
    after_id = 0
    while True:
        batch_ids = _next_undispatched(
            db, plan_id=plan_id, lot_ids=lot_ids, created_before=created_before, after_id=after_id, limit=chunk_size
        )
        if not batch_ids:
            break
        after_id = batch_ids[-1]

        if not queue.in_database:
            with db.session() as session:
                messages = load_messages(session, batch_ids)
            queue.publish(messages)
        count = mark_dispatched(db, batch_ids)
        dispatched += count
        if on_progress is not None:
            on_progress(count)
        logger.debug("Dispatched batches %d..%d", batch_ids[0], batch_ids[-1])

    if dispatched:
        scope = ""
        if plan_id:
            scope = f" of plan {plan_id}"
        elif lot_ids:
            scope = f" of lots {_describe(lot_ids)}"
        logger.info("Dispatched %d batches%s", dispatched, scope)
    return dispatched


def _mark_plan_dispatched(db: Database, plan_id: int, *, chunk_size: int, on_progress: ProgressCallback | None) -> int:
    """Mark a plan's batches dispatched in id ranges: for a queue in the database that is all publishing is."""
    with db.session() as session:
        first_id, last_id = session.execute(
            select(func.min(Batch.id), func.max(Batch.id)).where(Batch.plan_id == plan_id, Batch.dispatched_at.is_(None))
        ).one()
    if first_id is None:
        return 0
    dispatched = 0
    for low in range(first_id, last_id + 1, chunk_size):
        count = mark_dispatched_range(db, plan_id=plan_id, first_id=low, last_id=min(low + chunk_size - 1, last_id))
        dispatched += count
        if on_progress is not None:
            on_progress(count)
    logger.info("Dispatched %d batches of plan %d", dispatched, plan_id)
    return dispatched


def count_undispatched(db: Database, *, plan_id: int | None = None) -> int:
    with db.session() as session:
        query = select(func.count()).select_from(Batch).where(Batch.dispatched_at.is_(None))
        if plan_id is not None:
            query = query.where(Batch.plan_id == plan_id)
        return session.scalar(query) or 0


def _next_undispatched(
    db: Database,
    *,
    plan_id: int | None,
    lot_ids: Sequence[int] | None,
    created_before: dt.datetime | None,
    after_id: int,
    limit: int,
) -> list[int]:
    query = select(Batch.id).where(Batch.dispatched_at.is_(None), Batch.id > after_id)
    if created_before is not None:
        query = query.where(Batch.created_at < created_before)
    if plan_id is not None:
        query = query.where(Batch.plan_id == plan_id)
    if lot_ids is not None:
        query = query.where(Batch.lot_id.in_(lot_ids))
    with db.session() as session:
        return list(session.scalars(query.order_by(Batch.id).limit(limit)))


def _describe(lot_ids: Sequence[int]) -> str:
    ids = sorted(lot_ids)
    if len(ids) <= 5:
        return ", ".join(str(lot_id) for lot_id in ids)
    return f"{ids[0]}..{ids[-1]} ({len(ids)} lots)"
