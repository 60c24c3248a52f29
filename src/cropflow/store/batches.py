"""Creating a lot's batches, once, whatever is re-run."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cropflow.allocation import allocate_recipes
from cropflow.store.db import Database, utc_now
from cropflow.store.tables import Batch, BatchStatus, Lot

logger = logging.getLogger(__name__)


def create_batches(db: Database, lot_ids: Sequence[int]) -> int:
    """Insert the batches of every lot in ``lot_ids`` that has none yet.

    One transaction for all the lots. Idempotent: a lot whose batches exist is
    skipped, and a concurrent run of the same lot (a redelivered task) inserts
    nothing twice because of the unique key (lot_id, sequence). Returns the
    number of batches inserted.
    """
    with db.write_session() as session:
        lots = session.scalars(
            select(Lot).where(Lot.id.in_(lot_ids), Lot.batches_created_at.is_(None)).order_by(Lot.id)
        ).all()
        if not lots:
            logger.debug("Lots %s already have their batches", _describe(lot_ids))
            return 0

        now = utc_now()
        rows = [row for lot in lots for row in _batch_rows(lot, now)]
        inserted = _insert_ignoring_existing(session, rows)
        session.execute(
            update(Lot).where(Lot.id.in_([lot.id for lot in lots])).values(batches_created_at=now)
        )

    logger.debug("Created %d batches for lots %s of plan %d", inserted, _describe(lot_ids), lots[0].plan_id)
    return inserted


def _batch_rows(lot: Lot, now: object) -> list[dict[str, object]]:
    allocation = allocate_recipes(lot.crop_count, lot.recommended_recipe_version_ids, lot.default_recipe_version_id)
    return [
        {
            "plan_id": lot.plan_id,
            "lot_id": lot.id,
            "sequence": sequence,
            "farm_id": lot.farm_id,
            "cultivar_id": lot.cultivar_id,
            "scheduled_date": lot.scheduled_date,
            "recipe_version_id": recipe_version_id,
            "recipe_source": source,
            "status": BatchStatus.SCHEDULED.value,
            "created_at": now,
            "delivery_count": 0,
            "failure_count": 0,
        }
        for sequence, (recipe_version_id, source) in enumerate(allocation, start=1)
    ]


def _insert_ignoring_existing(session: Session, rows: list[dict[str, object]]) -> int:
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        statement = sqlite.insert(Batch).on_conflict_do_nothing(index_elements=["lot_id", "sequence"])
    elif dialect == "postgresql":
        statement = postgresql.insert(Batch).on_conflict_do_nothing(index_elements=["lot_id", "sequence"])
    else:
        statement = insert(Batch)
    # RETURNING counts the rows really inserted; the row count of an
    # executemany is -1 on some drivers (psycopg).
    result = session.connection().execute(statement.returning(Batch.id), rows)
    return len(result.all())


def _describe(lot_ids: Sequence[int]) -> str:
    if len(lot_ids) <= 5:
        return ", ".join(str(lot_id) for lot_id in lot_ids)
    return f"{lot_ids[0]}..{lot_ids[-1]} ({len(lot_ids)} lots)"
