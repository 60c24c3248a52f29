"""Formula cells: saved values count, formulas without a value and error values are errors."""

from __future__ import annotations

import xlsxwriter

from cropflow.workbook import read_plan

from .builders import (
    AS_OF,
    RECIPES,
    SCHEDULE,
    OdsFormula,
    good_sheets,
    write_ods,
    write_openpyxl,
)


def _location(problem):
    return (problem.sheet, problem.row, problem.column, problem.field, problem.value)


def test_formula_without_value_is_an_error(tmp_path, limits):
    sheets = good_sheets()
    sheets[SCHEDULE][2][1] = "=1+1"
    path = write_openpyxl(tmp_path / "plan.xlsx", sheets)

    plan = read_plan(path, as_of=AS_OF, limits=limits)

    [error] = plan.errors
    assert _location(error) == ("crop schedule", 3, "B", "crop_count", "=1+1")
    assert error.message.startswith("crop_count contains the formula =1+1 saved without its value")
    assert [rejected.row for rejected in plan.rejected_lots] == [3]


def test_formula_below_data_is_reported(tmp_path, limits):
    sheets = good_sheets()
    sheets[SCHEDULE].append([None, "=B2*2"])  # row 4 has nothing else
    path = write_openpyxl(tmp_path / "plan.xlsx", sheets)

    plan = read_plan(path, as_of=AS_OF, limits=limits)

    assert [_location(error) for error in plan.errors] == [
        ("crop schedule", 4, "A", "cultivar_name", ""),
        ("crop schedule", 4, "B", "crop_count", "=B2*2"),
        ("crop schedule", 4, "C", "date", ""),
        ("crop schedule", 4, "D", "farm_id", ""),
        ("crop schedule", 4, "E", "default_recipe", ""),
    ]


def test_formula_in_recipe_parameter_is_an_error(tmp_path, limits):
    sheets = good_sheets()
    sheets[RECIPES][2][6] = "=20+4"
    path = write_openpyxl(tmp_path / "plan.xlsx", sheets)

    plan = read_plan(path, as_of=AS_OF, limits=limits)

    [error] = plan.errors
    assert _location(error) == ("recipes", 3, "G", "temperature_c", "=20+4")


def _write_with_formula(path, value):
    """Write the good sheets with xlsxwriter, crop_count of row 3 being a formula saved with ``value``."""
    workbook = xlsxwriter.Workbook(str(path))
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in good_sheets().items():
        worksheet = workbook.add_worksheet(name)
        for row_index, row in enumerate(rows):
            for column_index, cell in enumerate(row):
                if hasattr(cell, "isoformat"):
                    worksheet.write_datetime(row_index, column_index, cell, date_format)
                elif cell is not None:
                    worksheet.write(row_index, column_index, cell)
        if name == SCHEDULE:
            worksheet.write_formula("B3", "=1+2", None, value)
    workbook.close()
    return path


def test_formula_counts_by_its_saved_value(tmp_path, limits):
    path = _write_with_formula(tmp_path / "plan.xlsx", 3)

    plan = read_plan(path, as_of=AS_OF, limits=limits)

    assert plan.errors == []
    assert plan.lots[1].crop_count == 3


def test_error_value_is_an_error_at_its_cell(tmp_path, limits):
    path = _write_with_formula(tmp_path / "plan.xlsx", "#DIV/0!")

    plan = read_plan(path, as_of=AS_OF, limits=limits)

    [error] = plan.errors
    assert _location(error) == ("crop schedule", 3, "B", "crop_count", "#DIV/0!")
    assert error.message == (
        "crop_count contains the error value #DIV/0! (from the formula =1+2). Fix it so that the cell has a value"
    )


def test_ods_plan_reads_like_xlsx(tmp_path, limits):
    path = write_ods(tmp_path / "plan.ods", good_sheets())

    plan = read_plan(path, as_of=AS_OF, limits=limits)

    assert plan.errors == []
    assert [
        (lot.row, lot.cultivar_name, lot.crop_count, lot.recommended_recipe_ids) for lot in plan.lots
    ] == [
        (2, "Basil Genovese", 5, (3, 1, 2)),
        (3, "Kale", 2, ()),
    ]


def test_ods_offset_table_keeps_locations(tmp_path, limits):
    sheets = good_sheets()
    sheets[SCHEDULE][2][1] = 2.5
    sheets[SCHEDULE] = [[], []] + [[None, None, *row] for row in sheets[SCHEDULE]]
    path = write_ods(tmp_path / "plan.ods", sheets)

    plan = read_plan(path, as_of=AS_OF, limits=limits)

    [error] = plan.errors
    assert _location(error) == ("crop schedule", 5, "D", "crop_count", "2.5")


def test_ods_formula_without_value_is_an_error(tmp_path, limits):
    sheets = good_sheets()
    sheets[SCHEDULE][2][1] = OdsFormula("of:=1+1")
    path = write_ods(tmp_path / "plan.ods", sheets)

    plan = read_plan(path, as_of=AS_OF, limits=limits)

    [error] = plan.errors
    assert _location(error) == ("crop schedule", 3, "B", "crop_count", "=1+1")


def test_ods_formula_with_value_counts_by_value(tmp_path, limits):
    sheets = good_sheets()
    sheets[SCHEDULE][2][1] = OdsFormula("of:=1+1", 2)
    path = write_ods(tmp_path / "plan.ods", sheets)

    plan = read_plan(path, as_of=AS_OF, limits=limits)

    assert plan.errors == []
    assert plan.lots[1].crop_count == 2
