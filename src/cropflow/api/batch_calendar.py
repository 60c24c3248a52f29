"""Batch counts per grow date and farm, with cultivar and recipe breakdowns, for the calendar heat map."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from cropflow.store.tables import Batch, Cultivar, Farm, RecipeVersion


def _restrict(query: Select, plan_id: int | None, first_day: dt.date | None, last_day: dt.date | None) -> Select:
    if plan_id is not None:
        query = query.where(Batch.plan_id == plan_id)
    if first_day is not None:
        query = query.where(Batch.scheduled_date >= first_day)
    if last_day is not None:
        query = query.where(Batch.scheduled_date <= last_day)
    return query


def batch_calendar(
    session: Session, *, plan_id: int | None, first_day: dt.date | None, last_day: dt.date | None
) -> dict[str, Any]:
    """Count batches per (date, farm) with two GROUP BY queries; no batch row is loaded.

    Returns the farms that have batches in the range and one cell per
    (date, farm) with its total, its cultivars and its recipe versions, each
    with a batch count, largest first.
    """
    by_cultivar = _restrict(
        select(Batch.scheduled_date, Batch.farm_id, Cultivar.name, func.count().label("batches"))
        .join(Cultivar, Cultivar.id == Batch.cultivar_id)
        .group_by(Batch.scheduled_date, Batch.farm_id, Cultivar.name),
        plan_id, first_day, last_day,
    )
    by_recipe = _restrict(
        select(
            Batch.scheduled_date, Batch.farm_id, RecipeVersion.recipe_id, RecipeVersion.version,
            func.count().label("batches"),
        )
        .join(RecipeVersion, RecipeVersion.id == Batch.recipe_version_id)
        .group_by(Batch.scheduled_date, Batch.farm_id, RecipeVersion.recipe_id, RecipeVersion.version),
        plan_id, first_day, last_day,
    )

    cells: dict[tuple[dt.date, int], dict[str, Any]] = {}
    for row in session.execute(by_cultivar):
        cell = cells.setdefault(
            (row.scheduled_date, row.farm_id),
            {"date": row.scheduled_date.isoformat(), "farm_id": row.farm_id, "batches": 0, "cultivars": [], "recipes": []},
        )
        cell["batches"] += row.batches
        cell["cultivars"].append({"cultivar": row.name, "batches": row.batches})
    for row in session.execute(by_recipe):
        cell = cells[(row.scheduled_date, row.farm_id)]
        cell["recipes"].append({"recipe_id": row.recipe_id, "recipe_version": row.version, "batches": row.batches})
    for cell in cells.values():
        cell["cultivars"].sort(key=lambda item: (-item["batches"], item["cultivar"]))
        cell["recipes"].sort(key=lambda item: (-item["batches"], item["recipe_id"], item["recipe_version"]))

    farm_ids = sorted({farm_id for _, farm_id in cells})
    names: dict[int, str] = {}
    if farm_ids:
        names = {row.id: row.name for row in session.execute(select(Farm.id, Farm.name).where(Farm.id.in_(farm_ids)))}
    return {
        "farms": [{"farm_id": farm_id, "name": names.get(farm_id)} for farm_id in farm_ids],
        "cells": [cells[key] for key in sorted(cells)],
    }
