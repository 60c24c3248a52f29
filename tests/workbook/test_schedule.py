"""Schedule rows: cell types, limits, cultivar identity and recommendations."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from .builders import AS_OF, LOT_DAY, RECOMMENDATIONS, SCHEDULE, good_sheets


def _location(problem):
    return (problem.sheet, problem.row, problem.column, problem.field, problem.value)


def test_fractional_crop_count_is_rejected(read_xlsx):
    sheets = good_sheets()
    sheets[SCHEDULE][1][1] = 2.3

    plan = read_xlsx(sheets)

    [error] = plan.errors
    assert _location(error) == ("crop schedule", 2, "B", "crop_count", "2.3")
    assert error.message == "crop_count must be a whole number of at least 1, found 2.3"
    [rejected] = plan.rejected_lots
    assert (rejected.row, rejected.cultivar_name, rejected.scheduled_date) == (2, "Basil Genovese", LOT_DAY)
    assert rejected.problems == (error,)
    assert [lot.row for lot in plan.lots] == [3]
    assert plan.plan_rejected is False


@pytest.mark.parametrize(("cell", "expected"), [(3.0, 3), ("4", 4), (" 7 ", 7), ("5.0", 5)])
def test_whole_valued_crop_counts_are_accepted(read_xlsx, cell, expected):
    sheets = good_sheets()
    sheets[SCHEDULE][2][1] = cell

    plan = read_xlsx(sheets)

    assert plan.errors == []
    assert plan.lots[1].crop_count == expected


@pytest.mark.parametrize(
    ("cell", "value", "found"),
    [
        (True, "TRUE", "the boolean TRUE"),
        (0, "0", "0"),
        (-2, "-2", "-2"),
        ("four", "four", '"four"'),
        ("2.5", "2.5", '"2.5"'),
        (None, "", "an empty cell"),
    ],
)
def test_invalid_crop_counts_are_rejected(read_xlsx, cell, value, found):
    sheets = good_sheets()
    sheets[SCHEDULE][2][1] = cell

    plan = read_xlsx(sheets)

    [error] = plan.errors
    assert _location(error) == ("crop schedule", 3, "B", "crop_count", value)
    assert error.message == f"crop_count must be a whole number of at least 1, found {found}"


def test_crop_count_over_limit_is_rejected(read_xlsx, limits):
    sheets = good_sheets()
    sheets[SCHEDULE][1][1] = 11

    plan = read_xlsx(sheets, limits=dataclasses.replace(limits, max_crops_per_lot=10))

    [error] = plan.errors
    assert _location(error) == ("crop schedule", 2, "B", "crop_count", "11")
    assert error.message == "crop_count must be at most 10, the limit of crops per lot, found 11"


def test_crop_count_at_limit_is_accepted(read_xlsx, limits):
    sheets = good_sheets()
    sheets[SCHEDULE][1][1] = 10

    plan = read_xlsx(sheets, limits=dataclasses.replace(limits, max_crops_per_lot=10))

    assert plan.errors == []


def test_datetime_cell_date_drops_time_of_day(read_xlsx):
    sheets = good_sheets()
    sheets[SCHEDULE][2][2] = dt.datetime(2027, 1, 16, 13, 45)

    plan = read_xlsx(sheets)

    assert plan.errors == []
    assert plan.lots[1].scheduled_date == dt.date(2027, 1, 16)


@pytest.mark.parametrize("text", ["2027-01-16", " 2027-01-16 ", "2027-01-16T08:30:00", "2027-01-16 08:30"])
def test_iso_text_date_is_accepted(read_xlsx, text):
    sheets = good_sheets()
    sheets[SCHEDULE][2][2] = text

    plan = read_xlsx(sheets)

    assert plan.errors == []
    assert plan.lots[1].scheduled_date == dt.date(2027, 1, 16)


@pytest.mark.parametrize("text", ["next week", "16/01/2027", "2027-02-30", "2027-1-16"])
def test_other_date_text_is_rejected_showing_value(read_xlsx, text):
    sheets = good_sheets()
    sheets[SCHEDULE][2][2] = text

    plan = read_xlsx(sheets)

    [error] = plan.errors
    assert _location(error) == ("crop schedule", 3, "C", "date", text)
    assert error.message == f'date must be a date such as 2027-01-15, found "{text}"'


def test_number_as_date_shows_its_date(read_xlsx):
    sheets = good_sheets()
    sheets[SCHEDULE][2][2] = 46000

    plan = read_xlsx(sheets)

    [error] = plan.errors
    assert _location(error) == ("crop schedule", 3, "C", "date", "46000")
    assert error.message == (
        "date must be a date such as 2027-01-15, found the number 46000. As a date in this workbook's "
        "1900 date system it would be 2025-12-09. Format the cell as a date"
    )


def test_number_in_date_column_uses_1904_date_system(read_xlsx):
    sheets = good_sheets()
    sheets[SCHEDULE][2][2] = 46000

    plan = read_xlsx(sheets, date_1904=True)

    [error] = plan.errors
    assert _location(error) == ("crop schedule", 3, "C", "date", "46000")
    assert "1904 date system it would be 2029-12-10" in error.message


def test_date_cells_read_correctly_in_1904_workbook(read_xlsx):
    plan = read_xlsx(good_sheets(), date_1904=True)

    assert plan.errors == []
    assert [lot.scheduled_date for lot in plan.lots] == [LOT_DAY, dt.date(2027, 1, 16)]
    assert plan.lots[0].recommended_recipe_ids == (3, 1, 2)


def test_date_before_as_of_is_rejected(read_xlsx):
    sheets = good_sheets()
    sheets[SCHEDULE][2][2] = dt.date(2026, 12, 31)

    plan = read_xlsx(sheets)

    [error] = plan.errors
    assert _location(error) == ("crop schedule", 3, "C", "date", "2026-12-31")
    assert error.message == "date must be on or after the plan's as-of day 2027-01-01, found 2026-12-31"


def test_date_on_as_of_day_is_accepted(read_xlsx):
    sheets = good_sheets()
    sheets[SCHEDULE][2][2] = AS_OF

    plan = read_xlsx(sheets)

    assert plan.errors == []


def test_cultivar_spellings_share_identity_and_first_spelling(read_xlsx):
    sheets = good_sheets()
    sheets[SCHEDULE][2][0] = "  basil   GENOVESE "
    sheets[SCHEDULE][2][2] = LOT_DAY
    sheets[RECOMMENDATIONS][1][0] = "BASIL genovese"

    plan = read_xlsx(sheets)

    assert plan.errors == []
    assert [(lot.cultivar_name, lot.cultivar_key) for lot in plan.lots] == [
        ("Basil Genovese", "basil genovese"),
        ("Basil Genovese", "basil genovese"),
    ]
    assert [lot.recommended_recipe_ids for lot in plan.lots] == [(3, 1, 2), (3, 1, 2)]


def test_empty_cultivar_name_is_rejected(read_xlsx):
    sheets = good_sheets()
    sheets[SCHEDULE][2][0] = "   "

    plan = read_xlsx(sheets)

    [error] = plan.errors
    assert _location(error) == ("crop schedule", 3, "A", "cultivar_name", "   ")
    assert error.message == "cultivar_name must be a non-empty text, found an empty cell"
    assert plan.rejected_lots[0].cultivar_name is None


def test_unknown_farm_id_rejects_lot(read_xlsx):
    sheets = good_sheets()
    sheets[SCHEDULE][2][3] = 9

    plan = read_xlsx(sheets)

    [error] = plan.errors
    assert _location(error) == ("crop schedule", 3, "D", "farm_id", "9")
    assert error.message == "farm_id 9 is neither a farm in the farms sheet nor an already stored farm"
    assert plan.rejected_lots[0].problems == (error,)


def test_unknown_default_recipe_rejects_lot(read_xlsx):
    sheets = good_sheets()
    sheets[SCHEDULE][2][4] = 9

    plan = read_xlsx(sheets)

    [error] = plan.errors
    assert _location(error) == ("crop schedule", 3, "E", "default_recipe", "9")
    assert (
        error.message
        == "default_recipe 9 is neither a recipe in the recipes sheet nor an already stored recipe"
    )


def test_stored_recipes_and_farms_may_be_referenced(read_xlsx):
    sheets = good_sheets()
    sheets[SCHEDULE][2][3] = 9
    sheets[SCHEDULE][2][4] = 8

    plan = read_xlsx(sheets, known_farm_ids=frozenset({9}), known_recipe_ids=frozenset({8}))

    assert plan.errors == []
    assert (plan.lots[1].farm_id, plan.lots[1].default_recipe_id) == (9, 8)


def test_row_with_several_errors_reports_each(read_xlsx):
    sheets = good_sheets()
    sheets[SCHEDULE][2] = ["Kale", 0, "soon", "one", 9]

    plan = read_xlsx(sheets)

    assert [(error.column, error.field) for error in plan.errors] == [
        ("B", "crop_count"),
        ("C", "date"),
        ("D", "farm_id"),
        ("E", "default_recipe"),
    ]
    assert plan.rejected_lots[0].problems == tuple(plan.errors)


def test_recommendations_longer_than_crop_count_warn_unused_count(read_xlsx):
    sheets = good_sheets()
    sheets[SCHEDULE][1][1] = 1

    plan = read_xlsx(sheets)

    assert plan.errors == []
    assert plan.lots[0].recommended_recipe_ids == (3, 1, 2)
    [warning] = plan.warnings
    assert _location(warning) == ("crop schedule", 2, "B", "crop_count", "1")
    assert warning.message == "2 of the 3 recommended recipes are unused because crop_count is 1"
