"""Validate the ``farms`` sheet into farm rows and the catalog of usable farm ids."""

from __future__ import annotations

from collections.abc import Set as AbstractSet

from cropflow.workbook.cells import (
    CellParser,
    required_text_parser,
    time_zone_parser,
    whole_number_parser,
)
from cropflow.workbook.plan import FarmRow
from cropflow.workbook.references import BadRow, IdCatalog, duplicate_id_problem
from cropflow.workbook.tables import ProblemLog, Table, bind, parse_row

_PARSERS: dict[str, CellParser] = {
    "id": whole_number_parser(1),
    "name": required_text_parser(),
    "timezone": time_zone_parser(),
}


def new_farm_catalog(known_farm_ids: AbstractSet[int]) -> IdCatalog:
    return IdCatalog(noun="farm", sheet_title="farms", known_ids=known_farm_ids)


def validate_farms(table: Table, catalog: IdCatalog, log: ProblemLog) -> list[FarmRow]:
    """Validate every farm row, fill ``catalog`` and return the valid farms.

    A farm whose id is repeated is left out, like one with errors, and its
    id becomes bad so that no lot uses it.
    """
    bound = bind(table, _PARSERS)
    first_row_of: dict[int, int] = {}
    farms: dict[int, FarmRow] = {}

    for row_number, values in table.rows:
        parsed, problems = parse_row(table, row_number, values, bound)
        farm_id = parsed.get("id")
        if farm_id is None:
            log.errors.extend(problems)
            continue
        assert isinstance(farm_id, int)

        first_row = first_row_of.setdefault(farm_id, row_number)
        if first_row != row_number:
            problems.append(
                duplicate_id_problem(
                    table, row_number, values, noun="farm", item_id=farm_id, first_row=first_row
                )
            )
            catalog.mark_bad(farm_id, BadRow.duplicated(table.sheet, first_row, row_number))
            farms.pop(farm_id, None)
        elif problems:
            catalog.mark_bad(farm_id, BadRow.with_errors(table.sheet, row_number))
        else:
            farms[farm_id] = FarmRow(
                farm_id=farm_id,
                name=parsed["name"],  # type: ignore[arg-type]
                timezone=parsed.get("timezone"),  # type: ignore[arg-type]
                row=row_number,
            )
        log.errors.extend(problems)

    catalog.finish(farms.keys())
    return list(farms.values())
