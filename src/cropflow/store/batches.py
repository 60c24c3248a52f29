"""Creating a lot's batches, once, whatever is re-run."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from typing import Any

from psycopg import errors as psycopg_errors
from sqlalchemy import Row, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cropflow.allocation import allocate_recipes
from cropflow.store.bulk import sqlite_insert_or_ignore, sqlite_value
from cropflow.store.db import Database, utc_now
from cropflow.store.tables import Batch, BatchStatus, Lot

logger = logging.getLogger(__name__)

# Columns of a new batch row, in the order of the tuples built below.
BATCH_COLUMNS = (
    "plan_id", "lot_id", "sequence", "farm_id", "cultivar_id", "scheduled_date", "recipe_version_id",
    "recipe_source", "status", "created_at", "delivery_count", "failure_count", "dispatched_at",
)


def create_batches(db: Database, lot_ids: Sequence[int], *, queue_in_database: bool = False) -> int:
    """Insert the batches of every lot in ``lot_ids`` that has none yet.

    With ``queue_in_database`` (the embedded queue, which is the batches
    table itself) the batches are inserted dispatched: committing them is
    publishing them, so they never wait in the outbox.

    One transaction for all the lots. Idempotent: a lot whose batches exist is
    skipped; on PostgreSQL a concurrent run of the same lots (a redelivered
    task) waits on the lots' row locks and then skips them, and the unique
    key (lot_id, sequence) stops any other double insert. Returns the number
    of batches inserted.
    """
    with db.write_session() as session:
        lots = _lock_lots_without_batches(session, db, lot_ids)
        if not lots:
            logger.debug("Lots %s already have their batches", _describe(lot_ids))
            return 0

        now = utc_now()
        rows = list(_batch_rows(lots, now, sqlite_values=db.is_sqlite, dispatched=queue_in_database))
        if db.is_sqlite:
            inserted = _insert_sqlite(session, rows)
        else:
            inserted = _insert_postgres(session, rows)
        session.execute(update(Lot).where(Lot.id.in_([lot.id for lot in lots])).values(batches_created_at=now))

    logger.debug("Created %d batches for lots %s of plan %d", inserted, _describe(lot_ids), lots[0].plan_id)
    return inserted


def _lock_lots_without_batches(session: Session, db: Database, lot_ids: Sequence[int]) -> list[Row[Any]]:
    query = (
        select(
            Lot.id, Lot.plan_id, Lot.farm_id, Lot.cultivar_id, Lot.scheduled_date, Lot.crop_count,
            Lot.default_recipe_version_id, Lot.recommended_recipe_version_ids,
        )
        .where(Lot.id.in_(lot_ids), Lot.batches_created_at.is_(None))
        .order_by(Lot.id)
    )
    if not db.is_sqlite:
        query = query.with_for_update(of=Lot)
    return list(session.execute(query).all())


def _batch_rows(
    lots: Sequence[Row[Any]], now: dt.datetime, *, sqlite_values: bool, dispatched: bool
) -> Iterator[tuple[Any, ...]]:
    """Yield the batch rows of ``lots``; with ``sqlite_values``, dates as SQLite stores them."""
    status = BatchStatus.DISPATCHED.value if dispatched else BatchStatus.SCHEDULED.value
    created_at: Any = sqlite_value(now) if sqlite_values else now
    dispatched_at = created_at if dispatched else None
    for lot in lots:
        allocation = allocate_recipes(lot.crop_count, lot.recommended_recipe_version_ids, lot.default_recipe_version_id)
        day = sqlite_value(lot.scheduled_date) if sqlite_values else lot.scheduled_date
        lot_id, plan_id, farm_id, cultivar_id = lot.id, lot.plan_id, lot.farm_id, lot.cultivar_id
        for sequence, (recipe_version_id, source) in enumerate(allocation, start=1):
            yield (
                plan_id, lot_id, sequence, farm_id, cultivar_id, day, recipe_version_id, source, status,
                created_at, 0, 0, dispatched_at,
            )


def _insert_sqlite(session: Session, rows: list[tuple[Any, ...]]) -> int:
    """Insert with the driver's executemany; rows that exist already are skipped."""
    return sqlite_insert_or_ignore(session, "batches", BATCH_COLUMNS, rows)


def _insert_postgres(session: Session, rows: list[tuple[Any, ...]]) -> int:
    """Insert with COPY; if a row exists already, insert the rest one by one instead."""
    raw = session.connection().connection.driver_connection
    try:
        with raw.transaction(), raw.cursor() as cursor:
            with cursor.copy(f"COPY batches ({', '.join(BATCH_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return cursor.rowcount
    except psycopg_errors.UniqueViolation:
        # Only reachable when batches exist without their lot's marker; the
        # savepoint of raw.transaction() was rolled back.
        logger.warning("Some batches of these lots exist already; inserting the missing ones")
    return _insert_ignoring_existing(session, rows)


def _insert_ignoring_existing(session: Session, rows: list[tuple[Any, ...]]) -> int:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Batch).on_conflict_do_nothing(index_elements=["lot_id", "sequence"]).returning(Batch.id)
    result = session.connection().execute(statement, [dict(zip(BATCH_COLUMNS, row, strict=True)) for row in rows])
    return len(result.all())


def _describe(lot_ids: Sequence[int]) -> str:
    if len(lot_ids) <= 5:
        return ", ".join(str(lot_id) for lot_id in lot_ids)
    return f"{lot_ids[0]}..{lot_ids[-1]} ({len(lot_ids)} lots)"
