"""Read-only queries behind ``cropflow plans``, ``batches`` and ``status``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from cropflow.store.tables import Batch, BatchStatus, Cultivar, Plan, RecipeVersion


@dataclass(frozen=True, slots=True)
class BatchFilter:
    plan_id: int | None = None
    scheduled_date: dt.date | None = None
    farm_id: int | None = None
    # Matched by cultivar identity: case and spacing do not matter.
    cultivar: str | None = None
    status: str | None = None
    limit: int | None = None
    offset: int = 0


def in_queue() -> ColumnElement[bool]:
    """Return the condition of a batch whose message is in its date queue: dispatched, not acked, not dead."""
    return and_(Batch.dispatched_at.is_not(None), Batch.acked_at.is_(None), Batch.dead_lettered_at.is_(None))


def queued_count(session: Session, day: dt.date) -> int:
    """Count the batches of ``day`` whose messages are not acked yet, those being handled included."""
    query = select(func.count()).select_from(Batch).where(Batch.scheduled_date == day, in_queue())
    return session.scalar(query) or 0


def days_with_queued_batches(session: Session, since: dt.date) -> list[dt.date]:
    """Return the grow dates from ``since`` on that have batches not acked yet, in order."""
    query = (
        select(Batch.scheduled_date)
        .where(Batch.scheduled_date >= since, in_queue())
        .distinct()
        .order_by(Batch.scheduled_date)
    )
    return list(session.scalars(query))


def cultivar_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def list_batches(session: Session, batch_filter: BatchFilter) -> list[dict[str, Any]]:
    query = (
        select(
            Batch.id,
            Batch.plan_id,
            Batch.lot_id,
            Batch.sequence,
            Batch.farm_id,
            Cultivar.name.label("cultivar"),
            Batch.scheduled_date,
            RecipeVersion.recipe_id,
            RecipeVersion.version,
            Batch.recipe_source,
            Batch.status,
        )
        .join(Cultivar, Cultivar.id == Batch.cultivar_id)
        .join(RecipeVersion, RecipeVersion.id == Batch.recipe_version_id)
        .order_by(Batch.scheduled_date, Batch.id)
    )
    if batch_filter.plan_id is not None:
        query = query.where(Batch.plan_id == batch_filter.plan_id)
    if batch_filter.scheduled_date is not None:
        query = query.where(Batch.scheduled_date == batch_filter.scheduled_date)
    if batch_filter.farm_id is not None:
        query = query.where(Batch.farm_id == batch_filter.farm_id)
    if batch_filter.cultivar is not None:
        query = query.where(Cultivar.key == cultivar_key(batch_filter.cultivar))
    if batch_filter.status is not None:
        query = query.where(Batch.status == batch_filter.status)
    if batch_filter.limit is not None:
        query = query.limit(batch_filter.limit)
    if batch_filter.offset:
        query = query.offset(batch_filter.offset)

    return [
        {
            "batch_id": row.id,
            "plan_id": row.plan_id,
            "lot_id": row.lot_id,
            "sequence": row.sequence,
            "farm_id": row.farm_id,
            "cultivar": row.cultivar,
            "scheduled_date": row.scheduled_date.isoformat(),
            "recipe_id": row.recipe_id,
            "recipe_version": row.version,
            "recipe_source": row.recipe_source,
            "status": row.status,
        }
        for row in session.execute(query)
    ]


def plan_fields(plan: Plan) -> dict[str, Any]:
    """Return the fields of a plan that ``plans --json`` and the API show."""
    return {
        "plan_id": plan.id,
        "file": plan.file_name,
        "sha256": plan.sha256,
        "as_of": plan.as_of.isoformat(),
        "status": plan.status,
        "lots": plan.lot_count,
        "rejected_lots": plan.rejected_lot_count,
        "batches": plan.batch_count,
        "created_at": plan.created_at.isoformat(timespec="seconds"),
    }


def list_plans(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(select(Plan).order_by(Plan.id)).all()
    # A plan whose ingest stopped halfway has fewer batches than planned
    # until the same file is ingested again.
    created = dict(session.execute(select(Batch.plan_id, func.count()).group_by(Batch.plan_id)).all())
    return [
        plan_fields(plan) | {"batches_created": created.get(plan.id, 0), "warnings": len(plan.warnings)}
        for plan in rows
    ]


def date_status(session: Session, *, since: dt.date | None = None) -> list[dict[str, Any]]:
    """Count batches per grow date and status, and the embedded queue depth."""
    columns = [func.sum(case((Batch.status == status.value, 1), else_=0)).label(status.value) for status in BatchStatus]
    query = (
        select(
            Batch.scheduled_date,
            func.count().label("total"),
            func.sum(case((in_queue(), 1), else_=0)).label("queued"),
            func.sum(case((Batch.dead_lettered_at.is_not(None), 1), else_=0)).label("dead_lettered"),
            *columns,
        )
        .group_by(Batch.scheduled_date)
        .order_by(Batch.scheduled_date)
    )
    if since is not None:
        query = query.where(Batch.scheduled_date >= since)
    result = []
    for row in session.execute(query):
        mapping = row._mapping
        result.append(
            {
                "date": row.scheduled_date.isoformat(),
                "queue_depth": int(mapping["queued"] or 0),
                "dead_lettered": int(mapping["dead_lettered"] or 0),
                "total": int(mapping["total"]),
                "by_status": {status.value: int(mapping[status.value] or 0) for status in BatchStatus},
            }
        )
    return result
