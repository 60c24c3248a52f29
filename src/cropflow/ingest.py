"""Ingest a workbook: read, validate, store, create batches and dispatch them."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kombu.exceptions import OperationalError as KombuOperationalError
from sqlalchemy import func, select

from cropflow.dispatch import outbox
from cropflow.errors import QueueUnavailableError
from cropflow.progress import Progress
from cropflow.report import IngestReport, IngestStatus
from cropflow.runtime import Runtime
from cropflow.store import catalog
from cropflow.store.plans import (
    StoredPlan,
    existing_plan,
    find_plan_id,
    rejected_lot_json,
    store_plan,
)
from cropflow.store.tables import Batch, Lot
from cropflow.workbook import WorkbookLimits, file_sha256, read_plan
from cropflow.workbook.plan import ParsedPlan, Problem

logger = logging.getLogger(__name__)

# How often ``wait_for_plan`` counts the plan's batches.
WAIT_POLL_INTERVAL_S = 0.5
KOMBU_CONNECTION_ERRORS = (KombuOperationalError, ConnectionError, OSError)


@dataclass(frozen=True, slots=True)
class IngestOptions:
    as_of: dt.date
    skip_invalid_lots: bool = False
    dry_run: bool = False
    # Distributed mode: follow the plan until the workers dispatched every batch.
    wait: bool = False


def ingest_file(runtime: Runtime, path: Path, options: IngestOptions, progress: Progress | None = None) -> IngestReport:
    """Ingest one workbook and return its report; never raises for a bad file.

    Raises StoreUnavailableError or QueueUnavailableError when the database
    or the broker cannot be reached.
    """
    progress = progress or Progress()
    if not path.is_file():
        # A named pipe or a device would be read forever.
        problem = Problem(message=f"{path.name} is not a regular file")
        return IngestReport(status=IngestStatus.REJECTED, file_name=path.name, errors=[problem])
    runtime.check_broker_url()
    db = runtime.db
    try:
        sha256 = file_sha256(path)
    except OSError as exc:
        problem = Problem(message=f"cannot read {path.name}: {exc.strerror or exc}")
        return IngestReport(status=IngestStatus.REJECTED, file_name=path.name, errors=[problem])
    logger.info("Ingesting %s (SHA-256 %s)", path.name, sha256)

    plan_id = find_plan_id(db, sha256)
    if plan_id is not None:
        logger.info("File %s was already ingested as plan %d", path.name, plan_id)
        if options.dry_run:
            return _duplicate_report(runtime, path.name, plan_id, dry_run=True)
        _complete_and_follow(runtime, existing_plan(db, plan_id), options, progress)
        return _duplicate_report(runtime, path.name, plan_id)

    with db.session() as session:
        known = catalog.load_known_ids(session)
    parsed = read_plan(
        path,
        as_of=options.as_of,
        limits=WorkbookLimits.from_settings(runtime.settings),
        known_farm_ids=known.farm_ids,
        known_recipe_ids=known.recipe_ids,
        sha256=sha256,
    )
    _log_problems(parsed)

    if _must_reject(parsed, options):
        return _rejected_report(parsed, dry_run=options.dry_run)
    if options.dry_run:
        return _accepted_report(parsed, plan_id=None, batches=parsed.crop_total, dry_run=True)

    stored = store_plan(db, parsed)
    _complete_and_follow(runtime, stored, options, progress)
    if not stored.created:
        return _duplicate_report(runtime, path.name, stored.plan_id)

    report = _accepted_report(parsed, plan_id=stored.plan_id, batches=count_batches(runtime, stored.plan_id))
    report.warnings.extend(stored.warnings)
    return report


def complete_plan(runtime: Runtime, stored: StoredPlan, progress: Progress) -> None:
    """Create the batches of every lot that has none and dispatch them.

    Embedded mode does the work in this process. Distributed mode sends the
    lots to the workers, which create and publish the batches; see
    ``wait_for_plan``. Safe to run again: a plan whose ingest stopped halfway
    is completed, and a complete plan costs two queries.
    """
    pending = lots_without_batches(runtime, stored.plan_id)
    if runtime.settings.is_embedded:
        if pending:
            create_plan_batches(runtime, stored.plan_id, pending, progress)
        dispatch_plan(runtime, stored.plan_id, progress)
    elif pending:
        _enqueue_lots(runtime, stored.plan_id, pending)


def _complete_and_follow(runtime: Runtime, stored: StoredPlan, options: IngestOptions, progress: Progress) -> None:
    complete_plan(runtime, stored, progress)
    if options.wait and not runtime.settings.is_embedded:
        wait_for_plan(runtime, stored.plan_id, progress)


def wait_for_plan(runtime: Runtime, plan_id: int, progress: Progress) -> bool:
    """Follow a plan until every batch exists and is dispatched; False on timeout."""
    from cropflow.store.tables import Plan

    with runtime.db.session() as session:
        expected = session.get_one(Plan, plan_id).batch_count
    deadline = time.monotonic() + runtime.settings.wait_timeout_s
    progress.start("batches", expected)
    progress.start("dispatch", expected)
    while True:
        created, dispatched = _plan_progress(runtime, plan_id)
        progress.update("batches", created)
        progress.update("dispatch", dispatched)
        if created >= expected and dispatched >= expected:
            progress.finish("batches")
            progress.finish("dispatch")
            return True
        if time.monotonic() > deadline:
            logger.warning(
                "Plan %d is not complete after %.0f s: %d of %d batches created, %d dispatched",
                plan_id, runtime.settings.wait_timeout_s, created, expected, dispatched,
            )
            return False
        time.sleep(WAIT_POLL_INTERVAL_S)


def count_batches(runtime: Runtime, plan_id: int) -> int:
    with runtime.db.session() as session:
        return session.scalar(select(func.count()).select_from(Batch).where(Batch.plan_id == plan_id)) or 0


def _plan_progress(runtime: Runtime, plan_id: int) -> tuple[int, int]:
    with runtime.db.session() as session:
        created, dispatched = session.execute(
            select(func.count(), func.count(Batch.dispatched_at)).where(Batch.plan_id == plan_id)
        ).one()
    return created, dispatched


def create_plan_batches(
    runtime: Runtime, plan_id: int, lots: Sequence[tuple[int, int]], progress: Progress
) -> None:
    """Create the batches of ``lots`` (lot id, crop count) in this process, a task call per chunk."""
    from cropflow.tasks import configure_celery, create_batches

    configure_celery(runtime.settings)
    total = sum(crop_count for _, crop_count in lots)
    logger.info("Creating %d batches for %d lots of plan %d", total, len(lots), plan_id)
    progress.start("batches", total)
    for chunk in _chunks(lots, runtime.settings.lots_per_task):
        create_batches.apply(args=[[lot_id for lot_id, _ in chunk]], throw=True)
        progress.advance("batches", sum(crop_count for _, crop_count in chunk))
    progress.finish("batches")


def dispatch_plan(runtime: Runtime, plan_id: int, progress: Progress) -> None:
    """Publish the plan's undispatched batches from this process."""
    db = runtime.db
    undispatched = outbox.count_undispatched(db, plan_id=plan_id)
    if not undispatched:
        return
    progress.start("dispatch", undispatched)
    queue = runtime.open_queue()
    try:
        outbox.relay(
            db,
            queue,
            plan_id=plan_id,
            chunk_size=runtime.settings.dispatch_chunk_size,
            on_progress=lambda count: progress.advance("dispatch", count),
        )
    finally:
        queue.close()
        progress.finish("dispatch")


def _enqueue_lots(runtime: Runtime, plan_id: int, lots: Sequence[tuple[int, int]]) -> None:
    from cropflow.tasks import enqueue_lot_chunks

    chunks = [[lot_id for lot_id, _ in chunk] for chunk in _chunks(lots, runtime.settings.lots_per_task)]
    try:
        enqueue_lot_chunks(runtime.settings, chunks)
    except KOMBU_CONNECTION_ERRORS as exc:
        raise QueueUnavailableError(
            f"Cannot send the lots of plan {plan_id} to the workers: {exc}. The plan is stored; "
            "ingest the same file again once the broker is reachable to send them."
        ) from exc
    logger.info("Sent %d lots of plan %d to the workers in %d tasks", len(lots), plan_id, len(chunks))


def _chunks(lots: Sequence[tuple[int, int]], size: int) -> list[Sequence[tuple[int, int]]]:
    size = max(1, size)
    return [lots[start : start + size] for start in range(0, len(lots), size)]


def lots_without_batches(runtime: Runtime, plan_id: int) -> list[tuple[int, int]]:
    with runtime.db.session() as session:
        rows = session.execute(
            select(Lot.id, Lot.crop_count)
            .where(Lot.plan_id == plan_id, Lot.batches_created_at.is_(None))
            .order_by(Lot.id)
        ).all()
        return [(lot_id, crop_count) for lot_id, crop_count in rows]


def _must_reject(parsed: ParsedPlan, options: IngestOptions) -> bool:
    if not parsed.errors:
        return False
    if parsed.plan_rejected or not options.skip_invalid_lots:
        return True
    return not parsed.lots


def _rejected_report(parsed: ParsedPlan, *, dry_run: bool) -> IngestReport:
    return IngestReport(
        status=IngestStatus.REJECTED,
        file_name=parsed.file_name,
        lots_accepted=0,
        lots_rejected=len(parsed.lots) + len(parsed.rejected_lots),
        errors=list(parsed.errors),
        warnings=list(parsed.warnings),
        rejected_lots=[rejected_lot_json(lot) for lot in parsed.rejected_lots],
        dry_run=dry_run,
    )


def _accepted_report(parsed: ParsedPlan, *, plan_id: int | None, batches: int, dry_run: bool = False) -> IngestReport:
    return IngestReport(
        status=IngestStatus.PARTIAL if parsed.rejected_lots else IngestStatus.ACCEPTED,
        file_name=parsed.file_name,
        plan_id=plan_id,
        lots_accepted=len(parsed.lots),
        lots_rejected=len(parsed.rejected_lots),
        batches=batches,
        errors=list(parsed.errors),
        warnings=list(parsed.warnings),
        rejected_lots=[rejected_lot_json(lot) for lot in parsed.rejected_lots],
        dry_run=dry_run,
    )


def _duplicate_report(runtime: Runtime, file_name: str, plan_id: int, *, dry_run: bool = False) -> IngestReport:
    from cropflow.store.tables import Plan

    with runtime.db.session() as session:
        plan = session.get_one(Plan, plan_id)
        warnings = [Problem(**problem) for problem in plan.warnings]
        lots_accepted, lots_rejected, rejected_lots = plan.lot_count, plan.rejected_lot_count, plan.rejected_lots
    return IngestReport(
        status=IngestStatus.DUPLICATE,
        file_name=file_name,
        plan_id=plan_id,
        lots_accepted=lots_accepted,
        lots_rejected=lots_rejected,
        batches=count_batches(runtime, plan_id),
        warnings=warnings,
        rejected_lots=rejected_lots,
        dry_run=dry_run,
    )


def _log_problems(parsed: ParsedPlan) -> None:
    if parsed.errors:
        logger.warning("%s: errors %d, warnings %d", parsed.file_name, len(parsed.errors), len(parsed.warnings))
    elif parsed.warnings:
        logger.info("%s: warnings %d", parsed.file_name, len(parsed.warnings))


