"""Validate the ``recipe_recommendations`` sheet into an index by cultivar and day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cropflow.workbook.cells import (
    CellParser,
    DateSystem,
    cell_text,
    cultivar_key,
    cultivar_parser,
    date_parser,
    recipe_ids_parser,
)
from cropflow.workbook.plan import Problem
from cropflow.workbook.reader import Row
from cropflow.workbook.references import BadRow, IdCatalog
from cropflow.workbook.tables import ProblemLog, Table, bind, parse_row

# (cultivar identity, valid_for_date)
RecommendationKey = tuple[str, dt.date]


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A valid recommendation row.

    ``blocked_by`` is a recommended recipe id whose recipe row is bad, with
    that row: a lot using this recommendation is rejected because of it.
    """

    row: int
    recipe_ids: tuple[int, ...]
    blocked_by: tuple[int, BadRow] | None


@dataclass(slots=True)
class RecommendationIndex:
    """The recommendation rows by key, and the keys and cultivars that bad rows make unusable."""

    sheet: str | None = None
    by_key: dict[RecommendationKey, Recommendation] = field(default_factory=dict)
    bad_keys: dict[RecommendationKey, BadRow] = field(default_factory=dict)
    # Cultivars with a row whose valid_for_date could not be read: any lot
    # of such a cultivar might have been meant to use that row.
    bad_cultivars: dict[str, BadRow] = field(default_factory=dict)
    # Keys that some schedule row looked up.
    used: set[RecommendationKey] = field(default_factory=set)
    # Where each valid row's cultivar name is, for the unused-row warning.
    cultivar_cells: dict[RecommendationKey, tuple[str, str]] = field(default_factory=dict)


def validate_recommendations(
    table: Table, recipes: IdCatalog, date_system: DateSystem, log: ProblemLog
) -> RecommendationIndex:
    """Validate every recommendation row and return the index a schedule row looks up."""
    parsers: dict[str, CellParser] = {
        "cultivar_name": cultivar_parser(),
        "valid_for_date": date_parser(date_system),
        "recipe_ids": recipe_ids_parser(),
    }
    bound = bind(table, parsers)
    index = RecommendationIndex(sheet=table.sheet)
    first_row_of: dict[RecommendationKey, int] = {}

    for row_number, values in table.rows:
        parsed, problems = parse_row(table, row_number, values, bound)
        recipe_ids = parsed.get("recipe_ids")
        blocked_by = None
        if isinstance(recipe_ids, tuple):
            blocked_by = _check_recipe_ids(table, row_number, values, recipe_ids, recipes, problems)

        name = parsed.get("cultivar_name")
        day = parsed.get("valid_for_date")
        if isinstance(name, str) and not isinstance(day, dt.date):
            index.bad_cultivars.setdefault(
                cultivar_key(name),
                BadRow(
                    table.sheet,
                    row_number,
                    f"{table.sheet} row {row_number}, whose valid_for_date is invalid",
                ),
            )
        if isinstance(name, str) and isinstance(day, dt.date):
            key = (cultivar_key(name), day)
            first_row = first_row_of.setdefault(key, row_number)
            if first_row != row_number:
                problems.append(_duplicate_problem(table, row_number, values, name, day, first_row))
                index.bad_keys[key] = BadRow(
                    table.sheet,
                    row_number,
                    f"{table.sheet} rows {first_row} and {row_number}, which repeat the same "
                    "cultivar_name and valid_for_date",
                )
                index.by_key.pop(key, None)
            elif problems:
                index.bad_keys[key] = BadRow.with_errors(table.sheet, row_number)
            else:
                index.by_key[key] = Recommendation(row_number, recipe_ids, blocked_by)  # type: ignore[arg-type]
                name_column = table.columns["cultivar_name"]
                index.cultivar_cells[key] = (name_column.letter, cell_text(values[name_column.index]))
        log.errors.extend(problems)
    return index


def _check_recipe_ids(
    table: Table,
    row_number: int,
    values: Row,
    recipe_ids: tuple[int, ...],
    recipes: IdCatalog,
    problems: list[Problem],
) -> tuple[int, BadRow] | None:
    """Add a problem for each unknown recipe id and return the first id whose recipe row is bad."""
    column = table.columns["recipe_ids"]
    blocked_by = None
    for recipe_id in recipe_ids:
        reference = recipes.reference_problem(
            recipe_id, sheet=table.sheet, row=row_number, column=column.letter, field_name="recipe_ids"
        )
        if reference is None:
            continue
        _, own_error = reference
        if own_error:
            problems.append(
                Problem(
                    message=(
                        f"recipe_ids names recipe {recipe_id}, which is neither in the recipes sheet "
                        "nor an already stored recipe"
                    ),
                    sheet=table.sheet,
                    row=row_number,
                    column=column.letter,
                    field="recipe_ids",
                    value=cell_text(values[column.index]),
                )
            )
        elif blocked_by is None:
            blocked_by = (recipe_id, recipes.bad[recipe_id])
    return blocked_by


def _duplicate_problem(
    table: Table, row_number: int, values: Row, name: str, day: dt.date, first_row: int
) -> Problem:
    # The date is placed at the valid_for_date cell, because a repeated
    # cultivar is normal and the repeated date is what makes the key collide.
    column = table.columns["valid_for_date"]
    return Problem(
        message=(
            f"the recommendation for {name} on {day.isoformat()} is already given in row {first_row}, "
            "but each cultivar_name and valid_for_date pair must appear once"
        ),
        sheet=table.sheet,
        row=row_number,
        column=column.letter,
        field="valid_for_date",
        value=cell_text(values[column.index]),
    )


def warn_about_unused(index: RecommendationIndex, log: ProblemLog) -> None:
    """Add a warning for every valid recommendation row that no schedule row uses."""
    if index.sheet is None:
        return
    for key, recommendation in index.by_key.items():
        if key in index.used:
            continue
        letter, name = index.cultivar_cells[key]
        log.warnings.append(
            Problem(
                message=(
                    f"no schedule row uses this recommendation for {name.strip()} on {key[1].isoformat()}"
                ),
                sheet=index.sheet,
                row=recommendation.row,
                column=letter,
                field="cultivar_name",
                value=name,
            )
        )
