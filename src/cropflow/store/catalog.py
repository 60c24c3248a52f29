"""Upserts of farms, cultivars and recipe versions, and the ids already stored."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cropflow.store.db import utc_now
from cropflow.store.tables import Cultivar, Farm, RecipeVersion
from cropflow.workbook.plan import FarmRow, LotRow, Problem, RecipeRow

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class KnownIds:
    """Farm and recipe ids already stored, which a schedule row may reference."""

    farm_ids: frozenset[int]
    recipe_ids: frozenset[int]


def load_known_ids(session: Session) -> KnownIds:
    farm_ids = frozenset(session.scalars(select(Farm.id)))
    recipe_ids = frozenset(session.scalars(select(RecipeVersion.recipe_id).distinct()))
    return KnownIds(farm_ids=farm_ids, recipe_ids=recipe_ids)


def upsert_farm(session: Session, *, farm_id: int, name: str, timezone: str | None) -> None:
    farm = session.get(Farm, farm_id)
    if farm is None:
        session.add(Farm(id=farm_id, name=name, timezone=timezone, updated_at=utc_now()))
        return
    if (farm.name, farm.timezone) != (name, timezone):
        logger.info("Updating farm %d: name %r, time zone %r", farm_id, name, timezone)
        farm.name, farm.timezone, farm.updated_at = name, timezone, utc_now()


def upsert_farms(session: Session, farms: Iterable[FarmRow]) -> None:
    for farm in farms:
        upsert_farm(session, farm_id=farm.farm_id, name=farm.name, timezone=farm.timezone)
    session.flush()


def register_cultivars(session: Session, lots: Iterable[LotRow]) -> dict[str, int]:
    """Return the cultivar id of every cultivar key in ``lots``, adding new ones."""
    names_by_key: dict[str, str] = {}
    for lot in lots:
        names_by_key.setdefault(lot.cultivar_key, lot.cultivar_name)

    ids_by_key = dict(
        session.execute(select(Cultivar.key, Cultivar.id).where(Cultivar.key.in_(names_by_key))).all()
    )
    new = [Cultivar(key=key, name=name) for key, name in names_by_key.items() if key not in ids_by_key]
    if new:
        session.add_all(new)
        session.flush()
        ids_by_key.update({cultivar.key: cultivar.id for cultivar in new})
        logger.info("Registered %d new cultivars", len(new))
    return ids_by_key


def store_recipes(session: Session, recipes: Iterable[RecipeRow], sheet: str) -> tuple[dict[int, int], list[Problem]]:
    """Store a new version of each recipe whose setpoints changed.

    Returns the version id to use for each recipe id of the workbook, and a
    warning for each recipe that got a new version.
    """
    version_ids: dict[int, int] = {}
    warnings: list[Problem] = []
    now = utc_now()
    for recipe in recipes:
        latest = latest_recipe_version(session, recipe.recipe_id)
        if latest is not None and _same_recipe(latest, recipe):
            version_ids[recipe.recipe_id] = latest.id
            continue

        version = RecipeVersion(
            recipe_id=recipe.recipe_id,
            version=1 if latest is None else latest.version + 1,
            name=recipe.name,
            light_intensity=recipe.light_intensity,
            lights_on=recipe.lights_on,
            lights_off=recipe.lights_off,
            co2_ppm=recipe.co2_ppm,
            parameters=dict(recipe.parameters),
            created_at=now,
        )
        session.add(version)
        session.flush()
        version_ids[recipe.recipe_id] = version.id
        if latest is not None:
            warnings.append(
                Problem(
                    message=(
                        f"recipe {recipe.recipe_id} differs from the stored version {latest.version}; "
                        f"stored as version {version.version}. Batches created earlier keep version "
                        f"{latest.version}."
                    ),
                    sheet=sheet,
                    row=recipe.row,
                    field="id",
                    value=str(recipe.recipe_id),
                )
            )
    return version_ids, warnings


def latest_recipe_version(session: Session, recipe_id: int) -> RecipeVersion | None:
    newest = select(func.max(RecipeVersion.version)).where(RecipeVersion.recipe_id == recipe_id)
    return session.scalars(
        select(RecipeVersion).where(
            RecipeVersion.recipe_id == recipe_id, RecipeVersion.version == newest.scalar_subquery()
        )
    ).one_or_none()


def _same_recipe(stored: RecipeVersion, recipe: RecipeRow) -> bool:
    return (
        stored.name == recipe.name
        and stored.light_intensity == recipe.light_intensity
        and stored.lights_on == recipe.lights_on
        and stored.lights_off == recipe.lights_off
        and stored.co2_ppm == recipe.co2_ppm
        and stored.parameters == dict(recipe.parameters)
    )
