"""Validate the ``recipes`` sheet into recipe rows and the catalog of usable recipe ids."""

from __future__ import annotations

from collections.abc import Set as AbstractSet

from cropflow.workbook.cells import (
    CellParser,
    cell_text,
    number_parser,
    optional_text,
    parameter_value,
    whole_number_parser,
)
from cropflow.workbook.plan import Problem, RecipeRow
from cropflow.workbook.references import BadRow, IdCatalog, duplicate_id_problem
from cropflow.workbook.tables import BoundColumn, ProblemLog, Table, bind, parse_row

# Above this CO2 level, the usual occupational exposure limit (8-hour
# average), people working among the crops are at risk.
CO2_WARNING_PPM = 5_000.0

_PARSERS: dict[str, CellParser] = {
    "id": whole_number_parser(1),
    "name": optional_text,
    "light_intensity": number_parser(0),
    "lights_on": number_parser(0),
    "lights_off": number_parser(0),
    "co2_ppm": number_parser(0),
}


def new_recipe_catalog(known_recipe_ids: AbstractSet[int]) -> IdCatalog:
    return IdCatalog(noun="recipe", sheet_title="recipes", known_ids=known_recipe_ids)


def validate_recipes(table: Table, catalog: IdCatalog, log: ProblemLog) -> list[RecipeRow]:
    """Validate every recipe row, fill ``catalog`` and return the valid recipes.

    A recipe whose id is repeated is left out, like one with errors, and
    its id becomes bad so that no lot uses it.
    """
    bound = bind(table, _PARSERS)
    bound += [BoundColumn(column, parameter_value) for column in table.extra_columns]
    first_row_of: dict[int, int] = {}
    recipes: dict[int, RecipeRow] = {}

    for row_number, values in table.rows:
        parsed, problems = parse_row(table, row_number, values, bound)
        _warn_about_co2(table, row_number, parsed, log)
        recipe_id = parsed.get("id")
        if recipe_id is None:
            log.errors.extend(problems)
            continue
        assert isinstance(recipe_id, int)

        first_row = first_row_of.setdefault(recipe_id, row_number)
        if first_row != row_number:
            problems.append(
                duplicate_id_problem(
                    table, row_number, values, noun="recipe", item_id=recipe_id, first_row=first_row
                )
            )
            catalog.mark_bad(recipe_id, BadRow.duplicated(table.sheet, first_row, row_number))
            recipes.pop(recipe_id, None)
        elif problems:
            catalog.mark_bad(recipe_id, BadRow.with_errors(table.sheet, row_number))
        else:
            recipes[recipe_id] = _recipe_row(row_number, parsed, table)
        log.errors.extend(problems)

    catalog.finish(recipes.keys())
    return list(recipes.values())


def _recipe_row(row_number: int, parsed: dict[str, object], table: Table) -> RecipeRow:
    parameters = {
        column.field: parsed[column.field]
        for column in table.extra_columns
        if parsed.get(column.field) is not None
    }
    return RecipeRow(
        recipe_id=parsed["id"],  # type: ignore[arg-type]
        name=parsed.get("name"),  # type: ignore[arg-type]
        light_intensity=parsed["light_intensity"],  # type: ignore[arg-type]
        lights_on=parsed["lights_on"],  # type: ignore[arg-type]
        lights_off=parsed["lights_off"],  # type: ignore[arg-type]
        co2_ppm=parsed["co2_ppm"],  # type: ignore[arg-type]
        parameters=parameters,  # type: ignore[arg-type]
        row=row_number,
    )


def _warn_about_co2(table: Table, row_number: int, parsed: dict[str, object], log: ProblemLog) -> None:
    co2_ppm = parsed.get("co2_ppm")
    if not isinstance(co2_ppm, float) or co2_ppm <= CO2_WARNING_PPM:
        return
    column = table.columns["co2_ppm"]
    log.warnings.append(
        Problem(
            message=(
                f"co2_ppm {co2_ppm:g} is above {CO2_WARNING_PPM:,.0f} ppm, the usual occupational exposure "
                "limit. Check that the value is meant"
            ),
            sheet=table.sheet,
            row=row_number,
            column=column.letter,
            field="co2_ppm",
            value=cell_text(co2_ppm),
        )
    )
