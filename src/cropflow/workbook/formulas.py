"""Find cells that python-calamine would read as empty although they are not.

python-calamine 0.9 reads a formula saved without its value (as openpyxl and
other writers without a calculation engine save them) and an error value such
as ``#DIV/0!`` as an empty cell. Such a cell must be reported, never skipped
or read as blank, so the sheet XML is scanned for them. Callers scan only the
members that contain a formula or an error, so ordinary files pay for one
byte search.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import IO

from defusedxml.ElementTree import iterparse

from cropflow.workbook.names import column_index

_CELL_REFERENCE = re.compile(r"([A-Za-z]+)(\d+)")

_TABLE_NS = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE_NS = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_CALCEXT_NS = "{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}"
_ODS_TABLE = _TABLE_NS + "table"
_ODS_ROW = _TABLE_NS + "table-row"
_ODS_CELLS = frozenset({_TABLE_NS + "table-cell", _TABLE_NS + "covered-table-cell"})


@dataclass(frozen=True, slots=True)
class UnreadableCell:
    """A cell that is not empty but that python-calamine reads as empty.

    ``formula`` is the formula text without ``=`` (empty for a shared formula
    that only points at another cell's text). ``error`` is the saved error
    value such as ``#DIV/0!``, or None for a formula saved without a value.
    """

    row: int  # 1-based, as the spreadsheet program shows it
    column: int  # 0-based index
    formula: str | None
    error: str | None


# Row number -> column index -> cell.
UnreadableCells = dict[int, dict[int, UnreadableCell]]


class TooManyUnreadableCells(Exception):
    """Raised when a scan finds more unreadable cells than the caller allowed."""

    def __init__(self, max_cells: int) -> None:
        super().__init__(f"more than {max_cells:,} unreadable cells")
        self.max_cells = max_cells


# Byte strings that mark sheet XML with a formula (<f>, or <x:f> with a
# namespace prefix) or an error value. A false match only costs a scan.
# bytes.find is used rather than one regular expression because it is
# about ten times faster on large sheets.
XLSX_SCAN_TRIGGERS = (b"<f>", b"<f ", b":f>", b":f ", b' t="e"')
ODS_SCAN_TRIGGERS = (b"table:formula=", b'calcext:value-type="error"')


def _local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def scan_xlsx_sheet(stream: IO[bytes], max_cells: int) -> UnreadableCells:
    """Find the formulas saved without a value and the error values in one worksheet XML.

    Raises TooManyUnreadableCells after ``max_cells`` of them.
    """
    cells: UnreadableCells = {}
    count = 0
    row_number = 0
    column = -1
    sheet_data = None
    for event, element in iterparse(stream, events=("start", "end"), forbid_dtd=True):
        name = _local_name(element.tag)
        if event == "start":
            if name == "row":
                reference = element.get("r")
                row_number = int(reference) if reference else row_number + 1
                column = -1
            elif name == "sheetData":
                sheet_data = element
            continue

        if name == "c":
            column = _xlsx_cell_column(element.get("r"), column)
            cell = _unreadable_xlsx_cell(element, row_number, column)
            if cell is not None:
                count += 1
                if count > max_cells:
                    raise TooManyUnreadableCells(max_cells)
                cells.setdefault(row_number, {})[column] = cell
            element.clear()
        elif name == "row" and sheet_data is not None:
            # Dropping finished rows keeps memory flat on large sheets.
            sheet_data.remove(element)
    return cells


def _xlsx_cell_column(reference: str | None, previous_column: int) -> int:
    # The r attribute is optional, and a cell without it follows the previous one.
    if reference:
        match = _CELL_REFERENCE.fullmatch(reference)
        if match:
            return column_index(match.group(1))
    return previous_column + 1


def _unreadable_xlsx_cell(element, row_number: int, column: int) -> UnreadableCell | None:  # type: ignore[no-untyped-def]
    cell_type = element.get("t", "n")
    formula = None
    value_element = None
    has_inline_string = False
    for child in element:
        child_name = _local_name(child.tag)
        if child_name == "f":
            formula = child.text or ""
        elif child_name == "v":
            value_element = child
        elif child_name == "is":
            has_inline_string = True

    value = value_element.text if value_element is not None else None
    if cell_type == "e":
        return UnreadableCell(row_number, column, formula, error=value or "#N/A")
    if formula is None or has_inline_string or value:
        return None
    # A formula whose result is the empty string keeps an empty <v> with t="str".
    if value_element is not None and cell_type in ("str", "inlineStr"):
        return None
    return UnreadableCell(row_number, column, formula, error=None)


def scan_ods_content(stream: IO[bytes], max_cells: int) -> dict[str, UnreadableCells]:
    """Find the formulas saved without a value and the error values in an OpenDocument ``content.xml``.

    Returns the cells by table (sheet) name. Raises TooManyUnreadableCells
    after ``max_cells`` of them, counting every cell of a repeated one.
    """
    tables: dict[str, UnreadableCells] = {}
    count = 0
    cells: UnreadableCells = {}
    row_number = 0
    rows_repeated = 1
    column = 0
    for event, element in iterparse(stream, events=("start", "end"), forbid_dtd=True):
        tag = element.tag
        if event == "start":
            if tag == _ODS_TABLE:
                cells = tables.setdefault(element.get(_TABLE_NS + "name", ""), {})
                row_number = 0
            elif tag == _ODS_ROW:
                rows_repeated = _repeat_count(element.get(_TABLE_NS + "number-rows-repeated"))
                column = 0
            continue

        if tag in _ODS_CELLS:
            columns_repeated = _repeat_count(element.get(_TABLE_NS + "number-columns-repeated"))
            cell = _unreadable_ods_cell(element)
            if cell is not None:
                count += rows_repeated * columns_repeated
                if count > max_cells:
                    raise TooManyUnreadableCells(max_cells)
                for cell_row in range(row_number + 1, row_number + rows_repeated + 1):
                    for cell_column in range(column, column + columns_repeated):
                        cells.setdefault(cell_row, {})[cell_column] = UnreadableCell(
                            cell_row, cell_column, cell.formula, cell.error
                        )
            column += columns_repeated
            element.clear()
        elif tag == _ODS_ROW:
            row_number += rows_repeated
            element.clear()
    return tables


def _unreadable_ods_cell(element) -> UnreadableCell | None:  # type: ignore[no-untyped-def]
    formula = element.get(_TABLE_NS + "formula")
    if element.get(_CALCEXT_NS + "value-type") == "error":
        error = "".join(element.itertext()).strip() or "#N/A"
        return UnreadableCell(0, 0, _strip_ods_formula(formula), error)
    if formula is not None and element.get(_OFFICE_NS + "value-type") is None:
        return UnreadableCell(0, 0, _strip_ods_formula(formula), error=None)
    return None


def _strip_ods_formula(formula: str | None) -> str | None:
    # OpenDocument formulas read "of:=B2*2"; show them as "B2*2" like xlsx ones.
    if formula is None:
        return None
    _, _, text = formula.partition("=")
    return text or formula


def _repeat_count(text: str | None) -> int:
    if not text:
        return 1
    try:
        return max(1, int(text))
    except ValueError:
        return 1
