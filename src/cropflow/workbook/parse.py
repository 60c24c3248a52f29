"""The entry point: read one crop-plan workbook file into a ParsedPlan."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Set as AbstractSet
from pathlib import Path

from python_calamine import CalamineError

from cropflow.errors import WorkbookError
from cropflow.workbook.container import inspect_container
from cropflow.workbook.limits import WorkbookLimits
from cropflow.workbook.plan import ParsedPlan, Problem
from cropflow.workbook.reader import open_workbook
from cropflow.workbook.validate import validate_workbook

logger = logging.getLogger(__name__)

HASH_CHUNK_BYTES = 1024 * 1024


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file's content as hex, reading it in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def read_plan(
    path: Path,
    *,
    as_of: dt.date,
    limits: WorkbookLimits,
    known_farm_ids: AbstractSet[int] = frozenset(),
    known_recipe_ids: AbstractSet[int] = frozenset(),
    file_name: str | None = None,
    sha256: str | None = None,
) -> ParsedPlan:
    """Read and validate a crop-plan workbook, reporting every problem it has.

    A bad file raises nothing. A file that is not a workbook, is over a
    limit or lacks a required sheet or column gives a plan with
    ``plan_rejected`` set. Every other error rejects the lots it concerns.

    ``known_farm_ids`` and ``known_recipe_ids`` are the farms and recipes
    already stored, which schedule rows may reference too. ``file_name``
    (default: the path's name) is used in messages, and ``sha256``
    (default: computed from the file) identifies the file's content.
    """
    file_name = file_name or path.name
    plan = ParsedPlan(file_name=file_name, sha256=sha256 or "", as_of=as_of)

    container = inspect_container(path, limits, file_name)
    if isinstance(container, Problem):
        return _rejected(plan, container)
    if not plan.sha256:
        plan.sha256 = file_sha256(path)

    try:
        workbook = open_workbook(path)
    except WorkbookError as exc:
        return _rejected(plan, Problem(message=f"{file_name} {exc}"))
    with workbook:
        try:
            validate_workbook(
                workbook,
                container,
                plan,
                limits=limits,
                known_farm_ids=known_farm_ids,
                known_recipe_ids=known_recipe_ids,
            )
        except CalamineError as exc:
            # Sheets are loaded while they are validated, so reader errors can arrive here.
            return _rejected(plan, Problem(message=f"{file_name} could not be read as a workbook: {exc}"))
    logger.info(
        "Read workbook %s: %d lots, %d rejected lots, %d errors, %d warnings",
        file_name,
        len(plan.lots),
        len(plan.rejected_lots),
        len(plan.errors),
        len(plan.warnings),
    )
    return plan


def _rejected(plan: ParsedPlan, problem: Problem) -> ParsedPlan:
    plan.errors.append(problem)
    plan.plan_rejected = True
    return plan
