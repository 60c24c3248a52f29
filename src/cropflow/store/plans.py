"""Storing a validated plan and its lots in one transaction."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from cropflow.store import catalog
from cropflow.store.bulk import bulk_insert
from cropflow.store.db import Database, utc_now
from cropflow.store.tables import Lot, Plan, PlanStatus
from cropflow.workbook.plan import ParsedPlan, Problem, RejectedLot

logger = logging.getLogger(__name__)

# Sheet names used in warnings raised while storing, when the workbook's own
# spelling is not at hand.
RECIPES_SHEET = "recipes"
LOT_COLUMNS = (
    "plan_id", "row_number", "cultivar_id", "farm_id", "scheduled_date", "crop_count",
    "default_recipe_version_id", "recommended_recipe_version_ids",
)
# PostgreSQL advisory lock key of plan storing ("catalog" in hex).
CATALOG_LOCK_KEY = 0x636174616C6F67


@dataclass(frozen=True, slots=True)
class StoredPlan:
    """A plan row and its lots, just stored or found stored already."""

    plan_id: int
    lot_ids: list[int]
    batch_count: int
    created: bool
    # Warnings raised while storing (new recipe versions), already saved.
    warnings: list[Problem]


class DuplicatePlanError(Exception):
    """Raised inside ``store_plan`` when another process stored the same file first."""


def find_plan_id(db: Database, sha256: str) -> int | None:
    with db.session() as session:
        return session.scalar(select(Plan.id).where(Plan.sha256 == sha256))


def store_plan(db: Database, parsed: ParsedPlan, *, recipes_sheet: str = RECIPES_SHEET) -> StoredPlan:
    """Store farms, cultivars, recipe versions, the plan and its lots.

    Everything is one transaction: a failure stores nothing. When a plan with
    the same SHA-256 exists (also one stored concurrently by another
    process), nothing is stored and the existing plan is returned.
    """
    try:
        with db.write_session() as session:
            _serialize_catalog_writes(session, db)
            existing = session.scalar(select(Plan.id).where(Plan.sha256 == parsed.sha256))
            if existing is not None:
                raise DuplicatePlanError(existing)
            stored = _store_in_session(session, parsed, recipes_sheet)
    except (DuplicatePlanError, IntegrityError) as exc:
        plan_id = find_plan_id(db, parsed.sha256)
        if plan_id is None:
            raise RuntimeError(f"storing plan {parsed.file_name} failed") from exc
        logger.info("File %s (SHA-256 %s) was stored before as plan %d", parsed.file_name, parsed.sha256, plan_id)
        return existing_plan(db, plan_id)

    logger.info(
        "Stored plan %d from %s: %d lots, %d batches to create",
        stored.plan_id, parsed.file_name, len(stored.lot_ids), stored.batch_count,
    )
    return stored


def _serialize_catalog_writes(session: Session, db: Database) -> None:
    """Make concurrent ingests store one at a time, so that their upserts of the
    same farms, cultivars and recipes do not collide. SQLite's write lock does
    this already; PostgreSQL takes a transaction-scoped advisory lock."""
    if not db.is_sqlite:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CATALOG_LOCK_KEY})


def existing_plan(db: Database, plan_id: int) -> StoredPlan:
    with db.session() as session:
        plan = session.get_one(Plan, plan_id)
        lot_ids = list(session.scalars(select(Lot.id).where(Lot.plan_id == plan_id).order_by(Lot.id)))
        return StoredPlan(
            plan_id=plan_id, lot_ids=lot_ids, batch_count=plan.batch_count, created=False, warnings=[]
        )


def _store_in_session(session: Session, parsed: ParsedPlan, recipes_sheet: str) -> StoredPlan:
    catalog.upsert_farms(session, parsed.farms)
    cultivar_ids = catalog.register_cultivars(session, parsed.lots)
    version_ids, version_warnings = catalog.store_recipes(session, parsed.recipes, recipes_sheet)
    _add_stored_recipe_versions(session, parsed, version_ids)

    warnings = parsed.warnings + version_warnings
    plan = Plan(
        sha256=parsed.sha256,
        file_name=parsed.file_name,
        as_of=parsed.as_of,
        status=PlanStatus.PARTIAL if parsed.rejected_lots else PlanStatus.ACCEPTED,
        lot_count=len(parsed.lots),
        rejected_lot_count=len(parsed.rejected_lots),
        batch_count=parsed.crop_total,
        warnings=[problem.to_json() for problem in warnings],
        rejected_lots=[rejected_lot_json(lot) for lot in parsed.rejected_lots],
        created_at=utc_now(),
    )
    session.add(plan)
    session.flush()

    lot_rows = [
        (
            plan.id,
            lot.row,
            cultivar_ids[lot.cultivar_key],
            lot.farm_id,
            lot.scheduled_date,
            lot.crop_count,
            version_ids[lot.default_recipe_id],
            json.dumps([version_ids[recipe_id] for recipe_id in lot.recommended_recipe_ids]),
        )
        for lot in parsed.lots
    ]
    bulk_insert(session, "lots", LOT_COLUMNS, lot_rows)
    lot_ids = list(session.scalars(select(Lot.id).where(Lot.plan_id == plan.id).order_by(Lot.id)))

    repeat_warnings = _warn_about_repeated_lots(session, plan.id)
    if repeat_warnings:
        plan.warnings = plan.warnings + [problem.to_json() for problem in repeat_warnings]
    return StoredPlan(
        plan_id=plan.id,
        lot_ids=lot_ids,
        batch_count=parsed.crop_total,
        created=True,
        warnings=version_warnings + repeat_warnings,
    )


def _warn_about_repeated_lots(session: Session, plan_id: int) -> list[Problem]:
    """Warn when lots of this plan repeat lots of earlier plans (same date, farm, cultivar and count).

    A corrected or re-saved workbook is a new file, so it becomes a new plan
    whose batches are created again; the planner should know.
    """
    earlier = aliased(Lot)
    rows = session.execute(
        select(earlier.plan_id, func.count())
        .select_from(Lot)
        .join(
            earlier,
            (earlier.scheduled_date == Lot.scheduled_date)
            & (earlier.farm_id == Lot.farm_id)
            & (earlier.cultivar_id == Lot.cultivar_id)
            & (earlier.crop_count == Lot.crop_count)
            & (earlier.plan_id != Lot.plan_id),
        )
        .where(Lot.plan_id == plan_id)
        .group_by(earlier.plan_id)
        .order_by(earlier.plan_id)
    ).all()
    return [
        Problem(
            message=(
                f"{count} lots repeat lots of plan {other_plan_id} (same date, farm, cultivar and crop_count); "
                "their batches are created again. If this file replaces that plan, its batches are now doubled."
            )
        )
        for other_plan_id, count in rows
    ]


def _add_stored_recipe_versions(session: Session, parsed: ParsedPlan, version_ids: dict[int, int]) -> None:
    """Map recipe ids that lots use but the workbook does not define to their latest version."""
    referenced = {lot.default_recipe_id for lot in parsed.lots}
    for lot in parsed.lots:
        referenced.update(lot.recommended_recipe_ids)
    for recipe_id in sorted(referenced - version_ids.keys()):
        latest = catalog.latest_recipe_version(session, recipe_id)
        if latest is None:
            # Validation checks every reference against the stored ids, so this
            # only happens when a recipe vanished in between.
            raise LookupError(f"recipe {recipe_id} is neither in the workbook nor stored")
        version_ids[recipe_id] = latest.id


def rejected_lot_json(lot: RejectedLot) -> dict[str, object]:
    return {
        "row": lot.row,
        "cultivar": lot.cultivar_name,
        "scheduled_date": lot.scheduled_date.isoformat() if lot.scheduled_date else None,
        "errors": [problem.to_json() for problem in lot.problems],
    }
