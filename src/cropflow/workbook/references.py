"""The ids a schedule row may reference, and the rows that make a reference unusable.

An id defined by a row with errors, or by two rows, is *bad*. A lot that
references it is rejected with a problem that points at the bad row. The
bad row's own errors are reported once, at that row.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from cropflow.workbook.cells import cell_text
from cropflow.workbook.plan import Problem
from cropflow.workbook.tables import Table


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that other rows cannot use, and why, as words that follow "refers to"."""

    sheet: str
    row: int
    description: str  # e.g. "recipes row 7, which has errors"

    @classmethod
    def with_errors(cls, sheet: str, row: int) -> BadRow:
        return cls(sheet, row, f"{sheet} row {row}, which has errors")

    @classmethod
    def duplicated(cls, sheet: str, first_row: int, row: int) -> BadRow:
        return cls(sheet, row, f"{sheet} rows {first_row} and {row}, which repeat the same id")


@dataclass(slots=True)
class IdCatalog:
    """The recipe or farm ids a schedule row may use.

    ``usable`` contains the ids defined by a valid row of the workbook or
    already stored, less the bad ones. When ``checkable`` is false the
    defining sheet could not be read, so references are not checked at all
    (its structural error already rejects the plan).
    """

    noun: str  # "recipe" or "farm"
    sheet_title: str
    known_ids: AbstractSet[int]
    checkable: bool = True
    usable: set[int] = field(default_factory=set)
    bad: dict[int, BadRow] = field(default_factory=dict)

    def finish(self, workbook_ids: AbstractSet[int]) -> None:
        """Compute ``usable`` once the valid workbook ids and the bad ones are known."""
        self.usable = (set(workbook_ids) | set(self.known_ids)) - self.bad.keys()

    def mark_bad(self, item_id: int, bad_row: BadRow) -> None:
        self.bad.setdefault(item_id, bad_row)

    def reference_problem(
        self, item_id: int, *, sheet: str, row: int, column: str, field_name: str
    ) -> tuple[Problem, bool] | None:
        """Return the problem of a cell that references ``item_id``, or None if the id is usable.

        The flag is true when the problem is the referencing row's own error
        (no such id exists) and false when it points at a bad row, whose
        error is reported at that row.
        """
        if not self.checkable or item_id in self.usable:
            return None
        bad_row = self.bad.get(item_id)
        if bad_row is not None:
            message = f"{field_name} {item_id} refers to {bad_row.description}"
            own_error = False
        else:
            message = (
                f"{field_name} {item_id} is neither a {self.noun} in the {self.sheet_title} sheet "
                f"nor an already stored {self.noun}"
            )
            own_error = True
        problem = Problem(
            message=message, sheet=sheet, row=row, column=column, field=field_name, value=str(item_id)
        )
        return problem, own_error


def duplicate_id_problem(table: Table, row_number: int, values: Sequence[object], *, noun: str, item_id: int,
                         first_row: int) -> Problem:
    """Build the error of a row that repeats the id of row ``first_row``."""
    id_column = table.columns["id"]
    return Problem(
        message=f"{noun} id {item_id} is already used in row {first_row}, but each {noun} id must be unique",
        sheet=table.sheet,
        row=row_number,
        column=id_column.letter,
        field="id",
        value=cell_text(values[id_column.index]),
    )
