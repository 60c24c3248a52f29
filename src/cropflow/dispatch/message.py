"""The batch message: one JSON object per batch, with a snapshot of its recipe."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from cropflow.store.tables import Batch, Cultivar, Farm, RecipeVersion

CONTENT_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class BatchMessage:
    """A batch ready to publish: its id, grow date and JSON payload."""

    batch_id: int
    scheduled_date: dt.date
    payload: dict[str, Any]

    def encode(self) -> bytes:
        return json.dumps(self.payload, separators=(",", ":"), sort_keys=False).encode()


def message_query() -> Select[Any]:
    return (
        select(
            Batch.id,
            Batch.plan_id,
            Batch.lot_id,
            Batch.sequence,
            Batch.scheduled_date,
            Batch.recipe_source,
            Farm.id.label("farm_id"),
            Farm.name.label("farm_name"),
            Cultivar.name.label("cultivar"),
            RecipeVersion.recipe_id,
            RecipeVersion.version,
            RecipeVersion.light_intensity,
            RecipeVersion.lights_on,
            RecipeVersion.lights_off,
            RecipeVersion.co2_ppm,
            RecipeVersion.parameters,
        )
        .join(Farm, Farm.id == Batch.farm_id)
        .join(Cultivar, Cultivar.id == Batch.cultivar_id)
        .join(RecipeVersion, RecipeVersion.id == Batch.recipe_version_id)
    )


def load_messages(session: Session, batch_ids: Sequence[int]) -> list[BatchMessage]:
    """Build the messages of ``batch_ids``, in batch id order."""
    if not batch_ids:
        return []
    rows = session.execute(message_query().where(Batch.id.in_(batch_ids)).order_by(Batch.id)).all()
    lot_sizes = _lot_sizes(session, {row.lot_id for row in rows})
    return [message_from_row(row, lot_sizes[row.lot_id]) for row in rows]


def message_from_row(row: Any, lot_size: int) -> BatchMessage:
    payload = {
        "batch_id": row.id,
        "plan_id": row.plan_id,
        "lot_id": row.lot_id,
        "sequence": row.sequence,
        "lot_size": lot_size,
        "farm": {"id": row.farm_id, "name": row.farm_name},
        "cultivar": row.cultivar,
        "scheduled_date": row.scheduled_date.isoformat(),
        "recipe": {
            "id": row.recipe_id,
            "version": row.version,
            "source": row.recipe_source,
            "light_intensity": _plain_number(row.light_intensity),
            "lights_on": _plain_number(row.lights_on),
            "lights_off": _plain_number(row.lights_off),
            "co2_ppm": _plain_number(row.co2_ppm),
            "parameters": row.parameters,
        },
    }
    return BatchMessage(batch_id=row.id, scheduled_date=row.scheduled_date, payload=payload)


def _lot_sizes(session: Session, lot_ids: set[int]) -> dict[int, int]:
    from cropflow.store.tables import Lot

    if not lot_ids:
        return {}
    return dict(session.execute(select(Lot.id, Lot.crop_count).where(Lot.id.in_(lot_ids))).all())


def _plain_number(value: float) -> int | float:
    """Write 250.0 as 250, as the planner typed it."""
    return int(value) if float(value).is_integer() else value
