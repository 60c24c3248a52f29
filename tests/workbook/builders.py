"""Builders of small workbook files for the workbook tests.

A sheet is a list of rows and a row a list of cell values, where None
leaves a cell blank and an empty list leaves a row blank. Dates become
date cells.
"""

from __future__ import annotations

import copy
import datetime as dt
import struct
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import xlsxwriter
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableCell, TableRow
from odf.text import P

Sheets = dict[str, list[list[object]]]

RECIPES = "recipes"
FARMS = "farms"
RECOMMENDATIONS = "recipe_recommendations"
SCHEDULE = "crop schedule"

AS_OF = dt.date(2027, 1, 1)
LOT_DAY = dt.date(2027, 1, 15)

_GOOD_SHEETS: Sheets = {
    RECIPES: [
        ["id", "name", "light_intensity", "lights_on", "lights_off", "co2_ppm", "temperature_c"],
        [1, "Leafy", 250, 16, 8, 900, 22],
        [2, "Herb", 300, 14, 10, 1000, 24.5],
        [3, "Fruit", 400, 12, 12, 1200, "warm"],
    ],
    FARMS: [
        ["id", "name", "timezone"],
        [1, "Compton", "America/Los_Angeles"],
        [2, "Kent", None],
    ],
    RECOMMENDATIONS: [
        ["cultivar_name", "valid_for_date", "recipe_ids"],
        ["Basil Genovese", LOT_DAY, "3, 1,2"],
    ],
    SCHEDULE: [
        ["cultivar_name", "crop_count", "date", "farm_id", "default_recipe"],
        ["Basil Genovese", 5, LOT_DAY, 1, 1],
        ["Kale", 2, dt.date(2027, 1, 16), 2, 2],
    ],
}


def good_sheets() -> Sheets:
    """Return the sheets of a valid plan: 3 recipes, 2 farms, 1 recommendation, 2 lots.

    Row ``i`` of a sheet list is spreadsheet row ``i + 1``.
    """
    return copy.deepcopy(_GOOD_SHEETS)


def write_xlsx(
    path: Path,
    sheets: Sheets,
    *,
    hidden: tuple[str, ...] = (),
    date_1904: bool = False,
    first_row: int = 0,
    first_column: int = 0,
) -> Path:
    """Write ``sheets`` with xlsxwriter, each table starting at (first_row, first_column), 0-based."""
    workbook = xlsxwriter.Workbook(str(path), {"date_1904": date_1904})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        worksheet = workbook.add_worksheet(name)
        if name in hidden:
            worksheet.hide()
        for row_offset, row in enumerate(rows):
            for column_offset, value in enumerate(row):
                row_index, column_index = first_row + row_offset, first_column + column_offset
                if value is None:
                    continue
                if isinstance(value, dt.date):
                    worksheet.write_datetime(row_index, column_index, value, date_format)
                elif isinstance(value, str):
                    worksheet.write_string(row_index, column_index, value)
                else:
                    worksheet.write(row_index, column_index, value)
    workbook.close()
    return path


def write_openpyxl(path: Path, sheets: Sheets) -> Path:
    """Write ``sheets`` with openpyxl, which saves text starting with ``=`` as a formula without a value."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        worksheet = workbook.create_sheet(name)
        for row_offset, row in enumerate(rows):
            for column_offset, value in enumerate(row):
                if value is not None:
                    worksheet.cell(row=row_offset + 1, column=column_offset + 1, value=value)
    workbook.save(path)
    return path


@dataclass(frozen=True)
class OdsFormula:
    """An OpenDocument formula cell, saved with ``value`` or, when None, without a value."""

    formula: str
    value: float | None = None


def write_ods(path: Path, sheets: Sheets) -> Path:
    """Write ``sheets`` as an OpenDocument spreadsheet with odfpy."""
    document = OpenDocumentSpreadsheet()
    for name, rows in sheets.items():
        table = Table(name=name)
        for row in rows:
            table_row = TableRow()
            for value in row:
                table_row.addElement(_ods_cell(value))
            table.addElement(table_row)
        document.spreadsheet.addElement(table)
    document.save(str(path))
    return path


def _ods_cell(value: object) -> TableCell:
    if value is None:
        return TableCell()
    if isinstance(value, OdsFormula):
        if value.value is None:
            return TableCell(formula=value.formula)
        cell = TableCell(formula=value.formula, valuetype="float", value=value.value)
    elif isinstance(value, dt.date):
        cell = TableCell(valuetype="date", datevalue=value.isoformat())
    elif isinstance(value, bool):
        cell = TableCell(valuetype="boolean", booleanvalue="true" if value else "false")
    elif isinstance(value, int | float):
        cell = TableCell(valuetype="float", value=value)
    else:
        cell = TableCell(valuetype="string")
    cell.addElement(P(text=str(value.value if isinstance(value, OdsFormula) else value)))
    return cell


def write_ole2(path: Path, stream_names: list[str]) -> Path:
    """Write a minimal OLE2 compound file whose directory lists ``stream_names`` (all empty streams)."""
    sector_bytes = 512
    end_of_chain, fat_sector, free_sector = 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    header = bytearray(sector_bytes)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHH", header, 0x18, 0x3E, 3, 0xFFFE)  # minor version, major version 3, byte order
    struct.pack_into("<HH", header, 0x1E, 9, 6)  # sector shift 2**9, mini sector shift 2**6
    struct.pack_into("<IIIIIIII", header, 0x2C, 1, 1, 0, 4096, end_of_chain, 0, end_of_chain, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *([free_sector] * 108))

    fat = [fat_sector, end_of_chain] + [free_sector] * (sector_bytes // 4 - 2)
    names = ["Root Entry", *stream_names]
    assert len(names) <= sector_bytes // 128
    no_stream = 0xFFFFFFFF
    directory = bytearray()
    for index, name in enumerate(names):
        entry = bytearray(128)
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        entry[: len(encoded)] = encoded
        struct.pack_into("<HBB", entry, 0x40, len(encoded), 5 if index == 0 else 2, 1)
        # The root's child is the first stream, and each stream's right sibling the next one.
        right_sibling = index + 1 if 0 < index < len(names) - 1 else no_stream
        child = 1 if index == 0 and len(names) > 1 else no_stream
        struct.pack_into("<III", entry, 0x44, no_stream, right_sibling, child)
        struct.pack_into("<II", entry, 0x74, end_of_chain, 0)
        directory += entry
    directory += bytes(sector_bytes - len(directory))
    path.write_bytes(bytes(header) + struct.pack(f"<{len(fat)}I", *fat) + bytes(directory))
    return path
