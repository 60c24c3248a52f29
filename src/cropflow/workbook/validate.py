"""Validate a workbook's sheets, row by row and across sheets, into a ParsedPlan.

The sheets are read in dependency order: recipes and farms first, then
recommendations (which name recipes), then the schedule (which names all
three), so that each schedule row is decided as it is read.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet

from python_calamine import CalamineWorkbook

from cropflow.errors import WorkbookError
from cropflow.workbook.cells import DateSystem
from cropflow.workbook.container import Container
from cropflow.workbook.farms import new_farm_catalog, validate_farms
from cropflow.workbook.limits import WorkbookLimits
from cropflow.workbook.names import (
    CROP_SCHEDULE,
    FARMS,
    RECIPES,
    RECOMMENDATIONS,
    REQUIRED_SHEETS,
    SHEET_ALIASES,
    SHEET_TITLES,
    canonical_sheet,
)
from cropflow.workbook.plan import ParsedPlan, Problem
from cropflow.workbook.reader import SheetInfo, list_worksheets, read_sheet
from cropflow.workbook.recipes import new_recipe_catalog, validate_recipes
from cropflow.workbook.recommendations import (
    RecommendationIndex,
    validate_recommendations,
    warn_about_unused,
)
from cropflow.workbook.references import IdCatalog
from cropflow.workbook.schedule import validate_schedule
from cropflow.workbook.tables import ProblemLog, Table, read_table


def validate_workbook(
    workbook: CalamineWorkbook,
    container: Container,
    plan: ParsedPlan,
    *,
    limits: WorkbookLimits,
    known_farm_ids: AbstractSet[int],
    known_recipe_ids: AbstractSet[int],
) -> None:
    """Read and validate every crop-plan sheet of ``workbook`` into ``plan``."""
    log = ProblemLog()
    worksheets = list_worksheets(workbook)
    sheets = match_sheets(worksheets, plan.file_name, log)
    present = {canonical_sheet(sheet.name) for sheet in worksheets}

    def table(canonical: str) -> Table | None:
        return _read_table(workbook, container, sheets.get(canonical), canonical, limits, plan.file_name, log)

    recipes = new_recipe_catalog(known_recipe_ids)
    recipes_table = table(RECIPES)
    if recipes_table is None:
        recipes.checkable = False
    else:
        plan.recipes = validate_recipes(recipes_table, recipes, log)

    farms = new_farm_catalog(known_farm_ids)
    errors_before = len(log.errors)
    farms_table = table(FARMS)
    if farms_table is not None:
        plan.farms = validate_farms(farms_table, farms, log)
    elif len(log.errors) > errors_before or (FARMS in present and FARMS not in sheets):
        farms.checkable = False  # a farms sheet exists but cannot be read
    else:
        farms.finish(set())

    recommendations = RecommendationIndex()
    recommendations_table = table(RECOMMENDATIONS)
    if recommendations_table is not None:
        recommendations = validate_recommendations(recommendations_table, recipes, container.date_system, log)

    schedule_table = table(CROP_SCHEDULE)
    if schedule_table is not None:
        _validate_schedule(
            schedule_table, plan, container.date_system, limits, farms, recipes, recommendations, log
        )
        warn_about_unused(recommendations, log)

    plan.errors.extend(log.errors)
    plan.warnings.extend(log.warnings)
    plan.plan_rejected = plan.plan_rejected or log.structural


def _validate_schedule(
    table: Table,
    plan: ParsedPlan,
    date_system: DateSystem,
    limits: WorkbookLimits,
    farms: IdCatalog,
    recipes: IdCatalog,
    recommendations: RecommendationIndex,
    log: ProblemLog,
) -> None:
    result = validate_schedule(
        table,
        as_of=plan.as_of,
        max_crops_per_lot=limits.max_crops_per_lot,
        date_system=date_system,
        farms=farms,
        recipes=recipes,
        recommendations=recommendations,
        log=log,
    )
    plan.lots = result.lots
    plan.rejected_lots = result.rejected_lots
    if not result.lots and not result.rejected_lots:
        log.warnings.append(
            Problem(message=f"sheet {table.sheet!r} has no rows below its header", sheet=table.sheet)
        )


def match_sheets(worksheets: list[SheetInfo], file_name: str, log: ProblemLog) -> dict[str, SheetInfo]:
    """Return the worksheet for each crop-plan sheet name that exactly one worksheet matches.

    Two worksheets that match one name are an error naming both, and
    neither is read. A missing required sheet is an error, other sheets a
    warning.
    """
    matches: dict[str, list[SheetInfo]] = {}
    for sheet in worksheets:
        canonical = canonical_sheet(sheet.name)
        if canonical is None:
            log.warnings.append(
                Problem(
                    message=f"sheet {sheet.name!r} is not a crop-plan sheet and was ignored", sheet=sheet.name
                )
            )
            continue
        matches.setdefault(canonical, []).append(sheet)

    for canonical, candidates in matches.items():
        if len(candidates) > 1:
            named = " and ".join(_describe_sheet(sheet) for sheet in candidates)
            log.structural_error(
                Problem(
                    message=(
                        f"{file_name} has two sheets that match the {SHEET_TITLES[canonical]} sheet: "
                        f"{named}. "
                        "Rename or delete one of them"
                    )
                )
            )

    for canonical in REQUIRED_SHEETS:
        if canonical not in matches:
            names = ", ".join(SHEET_ALIASES[canonical])
            found = ", ".join(repr(sheet.name) for sheet in worksheets) or "none"
            log.structural_error(
                Problem(
                    message=(
                        f"{file_name} has no {SHEET_TITLES[canonical]} sheet. Expected a sheet named one of "
                        f"{names}, found the sheets {found}"
                    )
                )
            )
    return {canonical: candidates[0] for canonical, candidates in matches.items() if len(candidates) == 1}


def _describe_sheet(sheet: SheetInfo) -> str:
    return f"{sheet.name!r} (hidden)" if sheet.hidden else repr(sheet.name)


def _read_table(
    workbook: CalamineWorkbook,
    container: Container,
    sheet: SheetInfo | None,
    canonical: str,
    limits: WorkbookLimits,
    file_name: str,
    log: ProblemLog,
) -> Table | None:
    if sheet is None:
        return None
    unreadable = container.unreadable_cells.get(sheet.name, {})
    try:
        sheet_rows = read_sheet(workbook, sheet.name, unreadable)
    except WorkbookError as exc:
        log.structural_error(Problem(message=f"{file_name}: {exc}", sheet=sheet.name))
        return None
    return read_table(
        sheet_rows,
        canonical,
        max_rows=limits.max_rows_per_sheet,
        required=canonical in REQUIRED_SHEETS,
        log=log,
        unreadable=unreadable,
    )
