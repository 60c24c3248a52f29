"""Read sheets with python-calamine, row by row, with their spreadsheet row numbers.

This module relies on these facts about python-calamine 0.9.1, checked for
xlsx, xls and ods. ``CalamineSheet.iter_rows()`` starts at spreadsheet row
1, blank rows above the data included. It starts at the first column that
has data (``sheet.start[1]``), not at column A. An empty cell reads as ``''``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from python_calamine import (
    CalamineError,
    CalamineWorkbook,
    SheetTypeEnum,
    SheetVisibleEnum,
)

from cropflow.errors import WorkbookError
from cropflow.workbook.formulas import UnreadableCells

# A cell value as python-calamine returns it; an empty cell is "".
CellValue = int | float | str | bool | dt.time | dt.date | dt.datetime | dt.timedelta
# A row as python-calamine returns it: one value per column from ``first_column``.
Row = list[CellValue]


@dataclass(frozen=True, slots=True)
class SheetInfo:
    """A worksheet of a workbook, as listed before any sheet is loaded."""

    name: str
    hidden: bool


@dataclass(slots=True)
class SheetRows:
    """The non-empty rows of one loaded sheet.

    ``rows`` yields ``(row number, values)`` pairs, where the row number is
    the one the spreadsheet program shows and ``values[i]`` is the cell in
    column ``first_column + i`` (0-based).
    """

    name: str
    first_column: int
    width: int
    # Number of the last row that has a value, 0 for an empty sheet.
    last_row: int
    rows: Iterator[tuple[int, Row]]


def open_workbook(path: Path) -> CalamineWorkbook:
    """Open a workbook with python-calamine, raising WorkbookError if it cannot be read."""
    try:
        # From a file object, python-calamine detects the format by content;
        # from a path it goes by the extension, which may be wrong.
        with path.open("rb") as file:
            return CalamineWorkbook.from_filelike(io.BytesIO(file.read()))
    except (CalamineError, OSError, ValueError) as exc:
        raise WorkbookError(f"could not be read as a workbook: {exc}") from exc


def list_worksheets(workbook: CalamineWorkbook) -> list[SheetInfo]:
    """Return the workbook's worksheets in tab order, hidden ones included and chart sheets left out."""
    return [
        SheetInfo(name=sheet.name, hidden=sheet.visible != SheetVisibleEnum.Visible)
        for sheet in workbook.sheets_metadata
        if sheet.typ == SheetTypeEnum.WorkSheet
    ]


def read_sheet(workbook: CalamineWorkbook, name: str, unreadable: UnreadableCells) -> SheetRows:
    """Load one sheet and return its non-empty rows, raising WorkbookError if it cannot be read.

    A row that contains an unreadable cell (see ``formulas``) counts as
    non-empty, even below the last row that python-calamine returns.
    """
    try:
        sheet = workbook.get_sheet_by_name(name)
    except CalamineError as exc:
        raise WorkbookError(f"sheet {name!r} could not be read: {exc}") from exc

    if sheet.start is None or sheet.end is None:
        return SheetRows(name=name, first_column=0, width=0, last_row=0, rows=_rows_below(unreadable, 0, 0))
    first_column = sheet.start[1]
    width = sheet.end[1] - first_column + 1
    last_row = sheet.end[0] + 1
    rows = _non_empty_rows(sheet.iter_rows(), width, unreadable, last_row)
    return SheetRows(name=name, first_column=first_column, width=width, last_row=last_row, rows=rows)


def _non_empty_rows(
    calamine_rows: Iterator[Row], width: int, unreadable: UnreadableCells, last_row: int
) -> Iterator[tuple[int, Row]]:
    for row_number, values in enumerate(calamine_rows, start=1):
        # list.count runs in C, which keeps this test cheap on large sheets.
        if values.count("") == width and row_number not in unreadable:
            continue
        yield row_number, values
    yield from _rows_below(unreadable, last_row, width)


def _rows_below(unreadable: UnreadableCells, last_row: int, width: int) -> Iterator[tuple[int, Row]]:
    # python-calamine ends the sheet at its last value, so rows that hold only
    # unreadable cells can lie below it. They come as rows of empty cells.
    for row_number in sorted(row for row in unreadable if row > last_row):
        yield row_number, [""] * width
