"""The plan of ``GET /api/plans/{id}``: its report fields, and a page of its lots with recipe sequences."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cropflow.store.queries import plan_fields
from cropflow.store.tables import Batch, Cultivar, Lot, Plan, RecipeVersion


def load_plan_detail(session: Session, plan_id: int, *, limit: int, offset: int) -> dict[str, Any] | None:
    """Return the plan with its warnings, rejected lots and lots ``offset`` to ``offset + limit``, or None.

    Each lot's recipe sequence comes from its stored batches, so it is empty
    until the batches of the lot exist.
    """
    plan = session.get(Plan, plan_id)
    if plan is None:
        return None
    lot_rows = session.execute(
        select(Lot, Cultivar.name.label("cultivar"))
        .join(Cultivar, Cultivar.id == Lot.cultivar_id)
        .where(Lot.plan_id == plan_id)
        .order_by(Lot.row_number, Lot.id)
        .limit(limit)
        .offset(offset)
    ).all()
    sequences = recipe_sequences(session, [lot.id for lot, _ in lot_rows])
    lots = [
        {
            "lot_id": lot.id,
            "row": lot.row_number,
            "cultivar": cultivar,
            "farm_id": lot.farm_id,
            "scheduled_date": lot.scheduled_date.isoformat(),
            "crop_count": lot.crop_count,
            "batches_created": lot.batches_created_at is not None,
            "recipe_sequence": sequences.get(lot.id, []),
        }
        for lot, cultivar in lot_rows
    ]
    total_lots = session.scalar(select(func.count()).select_from(Lot).where(Lot.plan_id == plan_id)) or 0
    return {
        **plan_fields(plan),
        "warnings": plan.warnings,
        "rejected_lot_details": plan.rejected_lots,
        "lot_page": {"total": total_lots, "limit": limit, "offset": offset},
        "lot_details": lots,
    }


def recipe_sequences(session: Session, lot_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Return each lot's batches in sequence order as ``{sequence, recipe_id, recipe_version, source}``."""
    if not lot_ids:
        return {}
    rows = session.execute(
        select(Batch.lot_id, Batch.sequence, RecipeVersion.recipe_id, RecipeVersion.version, Batch.recipe_source)
        .join(RecipeVersion, RecipeVersion.id == Batch.recipe_version_id)
        .where(Batch.lot_id.in_(lot_ids))
        .order_by(Batch.lot_id, Batch.sequence)
    )
    sequences: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        sequences[row.lot_id].append(
            {
                "sequence": row.sequence,
                "recipe_id": row.recipe_id,
                "recipe_version": row.version,
                "source": row.recipe_source,
            }
        )
    return sequences
