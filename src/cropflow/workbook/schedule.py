"""Validate the ``crop schedule`` sheet into lots, joined with their recommendations.

This loop runs once per schedule row, up to a million times, so a clean
row takes a fast path of plain calls and set lookups. Any other row takes
the general path, which reports every problem of the row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cropflow.workbook.cells import (
    CellError,
    DateSystem,
    cell_text,
    cultivar_key,
    cultivar_parser,
    date_parser,
    whole_number_parser,
)
from cropflow.workbook.plan import LotRow, Problem, RejectedLot
from cropflow.workbook.reader import Row
from cropflow.workbook.recommendations import RecommendationIndex
from cropflow.workbook.references import IdCatalog
from cropflow.workbook.tables import Column, ProblemLog, Table, bind, parse_row


@dataclass(slots=True)
class ScheduleResult:
    """The lots of a schedule: accepted ones and rejected ones, in row order."""

    lots: list[LotRow] = field(default_factory=list)
    rejected_lots: list[RejectedLot] = field(default_factory=list)


@dataclass(slots=True)
class _ScheduleContext:
    table: Table
    as_of: dt.date
    max_crops_per_lot: int
    farms: IdCatalog
    recipes: IdCatalog
    recommendations: RecommendationIndex
    log: ProblemLog
    result: ScheduleResult
    # Cultivar identity -> the first spelling seen, shown for every lot of it.
    display_names: dict[str, str] = field(default_factory=dict)


def validate_schedule(
    table: Table,
    *,
    as_of: dt.date,
    max_crops_per_lot: int,
    date_system: DateSystem,
    farms: IdCatalog,
    recipes: IdCatalog,
    recommendations: RecommendationIndex,
    log: ProblemLog,
) -> ScheduleResult:
    """Validate every schedule row into a lot or a rejected lot.

    A lot is rejected for its own errors and for a reference to a bad
    recipe, farm or recommendation row. Its own errors also go to ``log``.
    """
    context = _ScheduleContext(
        table, as_of, max_crops_per_lot, farms, recipes, recommendations, log, ScheduleResult()
    )
    parse_cultivar = cultivar_parser()
    parse_count = whole_number_parser(1)
    parse_date = date_parser(date_system)
    parse_farm = whole_number_parser(1)
    parse_recipe = whole_number_parser(1)
    bound = bind(
        table,
        {
            "cultivar_name": parse_cultivar,
            "crop_count": parse_count,
            "date": parse_date,
            "farm_id": parse_farm,
            "default_recipe": parse_recipe,
        },
    )
    columns = table.columns
    name_index = columns["cultivar_name"].index
    count_index = columns["crop_count"].index
    date_index = columns["date"].index
    farm_index = columns["farm_id"].index
    recipe_index = columns["default_recipe"].index
    unreadable = table.unreadable
    # Locals for the fast path, which avoids attribute lookups per row.
    max_crops = max_crops_per_lot
    usable_farms = farms.usable
    usable_recipes = recipes.usable
    display_names = context.display_names
    used_keys = recommendations.used
    find_recommendation = recommendations.by_key.get
    any_bad_recommendation = bool(recommendations.bad_keys or recommendations.bad_cultivars)
    append_lot = context.result.lots.append

    for row_number, values in table.rows:
        if row_number not in unreadable:
            try:
                name = parse_cultivar(values[name_index])
                crop_count = parse_count(values[count_index])
                day = parse_date(values[date_index])
                farm_id = parse_farm(values[farm_index])
                recipe_id = parse_recipe(values[recipe_index])
            except CellError:
                pass
            else:
                # The fast path takes a row that is valid, whose recommendation
                # row is valid and not longer than crop_count. Any other row
                # goes to _finish_row, which finds and reports its problems.
                if (
                    crop_count <= max_crops
                    and day >= as_of
                    and farm_id in usable_farms
                    and recipe_id in usable_recipes
                    and not any_bad_recommendation
                ):
                    key = name.casefold()  # cultivar_key(name), inlined
                    lookup = (key, day)
                    recommendation = find_recommendation(lookup)
                    if recommendation is None or (
                        recommendation.blocked_by is None and len(recommendation.recipe_ids) <= crop_count
                    ):
                        used_keys.add(lookup)
                        append_lot(
                            LotRow(
                                row=row_number,
                                cultivar_name=display_names.setdefault(key, name),
                                cultivar_key=key,
                                crop_count=crop_count,
                                scheduled_date=day,
                                farm_id=farm_id,
                                default_recipe_id=recipe_id,
                                recommended_recipe_ids=recommendation.recipe_ids if recommendation else (),
                            )
                        )
                        continue
                _finish_row(context, row_number, values, name, crop_count, day, farm_id, recipe_id, [])
                continue
        parsed, problems = parse_row(table, row_number, values, bound)
        _finish_row(
            context,
            row_number,
            values,
            parsed.get("cultivar_name"),  # type: ignore[arg-type]
            parsed.get("crop_count"),  # type: ignore[arg-type]
            parsed.get("date"),  # type: ignore[arg-type]
            parsed.get("farm_id"),  # type: ignore[arg-type]
            parsed.get("default_recipe"),  # type: ignore[arg-type]
            problems,
        )
    return context.result


def _finish_row(
    context: _ScheduleContext,
    row_number: int,
    values: Row,
    name: str | None,
    crop_count: int | None,
    day: dt.date | None,
    farm_id: int | None,
    recipe_id: int | None,
    problems: list[Problem],
) -> None:
    """Check a parsed row against the limits and the other sheets, then record its lot or rejection."""
    # Problems that point at a bad row elsewhere, whose error is reported there.
    references: list[Problem] = []
    columns = context.table.columns

    if crop_count is not None and crop_count > context.max_crops_per_lot:
        problems.append(_too_many_crops(context, row_number, columns["crop_count"], crop_count))
    if day is not None and day < context.as_of:
        problems.append(_before_as_of(context, row_number, columns["date"], day))
    if farm_id is not None and farm_id not in context.farms.usable:
        _check_reference(
            context, context.farms, farm_id, row_number, columns["farm_id"], problems, references
        )
    if recipe_id is not None and recipe_id not in context.recipes.usable:
        _check_reference(
            context, context.recipes, recipe_id, row_number, columns["default_recipe"], problems, references
        )

    key = None
    recommended: tuple[int, ...] = ()
    if name is not None:
        key = cultivar_key(name)
        name = context.display_names.setdefault(key, name)
        if day is not None:
            recommended = _recommended_recipes(context, row_number, values, key, day, references)

    if problems or references:
        context.log.errors.extend(problems)
        context.result.rejected_lots.append(
            RejectedLot(
                row=row_number, cultivar_name=name, scheduled_date=day, problems=tuple(problems + references)
            )
        )
        return

    # Without problems every cell parsed, so none of these is None.
    assert name is not None
    assert key is not None
    assert crop_count is not None
    assert day is not None
    assert farm_id is not None
    assert recipe_id is not None
    if len(recommended) > crop_count:
        _warn_unused_recommendations(context, row_number, values, crop_count, len(recommended))
    context.result.lots.append(
        LotRow(
            row=row_number,
            cultivar_name=name,
            cultivar_key=key,
            crop_count=crop_count,
            scheduled_date=day,
            farm_id=farm_id,
            default_recipe_id=recipe_id,
            recommended_recipe_ids=recommended,
        )
    )


def _check_reference(
    context: _ScheduleContext,
    catalog: IdCatalog,
    item_id: int,
    row_number: int,
    column: Column,
    problems: list[Problem],
    references: list[Problem],
) -> None:
    reference = catalog.reference_problem(
        item_id, sheet=context.table.sheet, row=row_number, column=column.letter, field_name=column.field
    )
    if reference is not None:
        problem, own_error = reference
        (problems if own_error else references).append(problem)


def _recommended_recipes(
    context: _ScheduleContext,
    row_number: int,
    values: Row,
    key: str,
    day: dt.date,
    references: list[Problem],
) -> tuple[int, ...]:
    """Return the recipes recommended for a lot.

    If its recommendation row is bad, add a problem that points at it and return no recipes.
    """
    index = context.recommendations
    lookup = (key, day)
    index.used.add(lookup)
    recommendation = index.by_key.get(lookup)
    if recommendation is not None:
        if recommendation.blocked_by is None:
            return recommendation.recipe_ids
        recipe_id, bad_row = recommendation.blocked_by
        message = (
            f"recipe {recipe_id}, recommended for this lot in {index.sheet} row {recommendation.row}, "
            f"refers to {bad_row.description}"
        )
    elif lookup in index.bad_keys:
        message = f"the recommendation for this lot comes from {index.bad_keys[lookup].description}"
    elif key in index.bad_cultivars:
        message = f"the recommendation for this lot may come from {index.bad_cultivars[key].description}"
    else:
        return ()
    references.append(_cultivar_problem(context, row_number, values, message))
    return ()


def _cultivar_problem(context: _ScheduleContext, row_number: int, values: Row, message: str) -> Problem:
    column = context.table.columns["cultivar_name"]
    return Problem(
        message=message,
        sheet=context.table.sheet,
        row=row_number,
        column=column.letter,
        field=column.field,
        value=cell_text(values[column.index]),
    )


def _too_many_crops(context: _ScheduleContext, row_number: int, column: Column, crop_count: int) -> Problem:
    return Problem(
        message=(
            f"crop_count must be at most {context.max_crops_per_lot:,}, the limit of crops per lot, "
            f"found {crop_count:,}"
        ),
        sheet=context.table.sheet,
        row=row_number,
        column=column.letter,
        field=column.field,
        value=str(crop_count),
    )


def _before_as_of(context: _ScheduleContext, row_number: int, column: Column, day: dt.date) -> Problem:
    return Problem(
        message=(
            f"date must be on or after the plan's as-of day {context.as_of.isoformat()}, "
            f"found {day.isoformat()}"
        ),
        sheet=context.table.sheet,
        row=row_number,
        column=column.letter,
        field=column.field,
        value=day.isoformat(),
    )


def _warn_unused_recommendations(
    context: _ScheduleContext, row_number: int, values: Row, crop_count: int, recommended: int
) -> None:
    column = context.table.columns["crop_count"]
    unused = recommended - crop_count
    context.log.warnings.append(
        Problem(
            message=(
                f"{unused} of the {recommended} recommended recipes are unused "
                f"because crop_count is {crop_count}"
            ),
            sheet=context.table.sheet,
            row=row_number,
            column=column.letter,
            field=column.field,
            value=cell_text(values[column.index]),
        )
    )
