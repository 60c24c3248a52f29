"""Sheets, headers, columns and locations."""

from __future__ import annotations

import datetime as dt

from .builders import FARMS, LOT_DAY, RECIPES, RECOMMENDATIONS, SCHEDULE, good_sheets


def test_clean_plan_has_lots_recipes_and_farms(read_xlsx):
    plan = read_xlsx(good_sheets())

    assert plan.errors == []
    assert plan.warnings == []
    assert plan.plan_rejected is False
    assert [(lot.row, lot.cultivar_name, lot.crop_count) for lot in plan.lots] == [
        (2, "Basil Genovese", 5),
        (3, "Kale", 2),
    ]
    assert plan.lots[0].scheduled_date == LOT_DAY
    assert plan.lots[0].recommended_recipe_ids == (3, 1, 2)
    assert plan.lots[1].recommended_recipe_ids == ()
    assert [recipe.recipe_id for recipe in plan.recipes] == [1, 2, 3]
    assert [(farm.farm_id, farm.timezone) for farm in plan.farms] == [(1, "America/Los_Angeles"), (2, None)]
    assert plan.file_name == "plan.xlsx"
    assert len(plan.sha256) == 64


def test_unknown_recipe_columns_are_kept_as_parameters(read_xlsx):
    sheets = good_sheets()
    sheets[RECIPES][0].append("Humidity %")
    sheets[RECIPES][1].append(60)

    plan = read_xlsx(sheets)

    assert plan.recipes[0].parameters == {"temperature_c": 22.0, "humidity_%": 60.0}
    assert plan.recipes[1].parameters == {"temperature_c": 24.5}
    assert plan.recipes[2].parameters == {"temperature_c": "warm"}
    assert plan.warnings == []


def test_unknown_schedule_column_is_ignored_with_warning(read_xlsx):
    sheets = good_sheets()
    sheets[SCHEDULE][0].append("notes")
    sheets[SCHEDULE][1].append("water daily")

    plan = read_xlsx(sheets)

    assert plan.errors == []
    [warning] = plan.warnings
    assert (warning.sheet, warning.row, warning.column, warning.value) == ("crop schedule", 1, "F", "notes")
    assert "'notes'" in warning.message
    assert "ignored" in warning.message


def test_table_starting_at_c3_reports_spreadsheet_locations(read_xlsx):
    sheets = good_sheets()
    sheets[SCHEDULE][2][1] = 2.3

    plan = read_xlsx(sheets, first_row=2, first_column=2)

    [error] = plan.errors
    # Header on row 3, the second data row on row 5; crop_count is the second column from C.
    assert (error.sheet, error.row, error.column, error.field, error.value) == (
        "crop schedule",
        5,
        "D",
        "crop_count",
        "2.3",
    )
    assert [lot.row for lot in plan.lots] == [4]
    assert plan.recipes[0].row == 4


def test_blank_rows_are_skipped(read_xlsx):
    sheets = good_sheets()
    sheets[SCHEDULE][1:1] = [[], [None, None, None]]  # rows 2 and 3 blank
    sheets[SCHEDULE].insert(5, [])  # row 6 blank
    sheets[SCHEDULE].append(["Mint", "many", LOT_DAY, 1, 1])  # row 7

    plan = read_xlsx(sheets)

    assert [lot.row for lot in plan.lots] == [4, 5]
    [error] = plan.errors
    assert (error.row, error.column, error.field, error.value) == (7, "B", "crop_count", "many")


def test_sheet_and_column_names_match_loosely(read_xlsx):
    sheets = good_sheets()
    schedule = sheets.pop(SCHEDULE)
    schedule[0] = [" Cultivar ", "Crop Count", "scheduled-date", "FARM_ID", "default recipe id"]
    sheets[" Crop-Schedule "] = schedule
    sheets["RECIPES"] = sheets.pop(RECIPES)
    sheets["Recommendations"] = sheets.pop(RECOMMENDATIONS)
    sheets["Recipes"] = sheets.pop("RECIPES")
    sheets["Recipes"][0][0] = "Recipe ID"

    plan = read_xlsx(sheets)

    assert plan.errors == []
    assert [lot.row for lot in plan.lots] == [2, 3]
    assert plan.lots[0].recommended_recipe_ids == (3, 1, 2)


def test_hidden_sheet_is_read_like_visible_one(read_xlsx):
    plan = read_xlsx(good_sheets(), hidden=(FARMS,))

    assert plan.errors == []
    assert [farm.farm_id for farm in plan.farms] == [1, 2]


def test_two_matching_sheets_are_an_error(read_xlsx):
    sheets = good_sheets()
    sheets["Crop Schedule "] = good_sheets()[SCHEDULE]
    sheets["crop_schedule"] = sheets.pop(SCHEDULE)

    plan = read_xlsx(sheets, hidden=("Crop Schedule ",))

    assert plan.plan_rejected is True
    [error] = plan.errors
    assert "'Crop Schedule ' (hidden)" in error.message
    assert "'crop_schedule'" in error.message
    assert error.message.startswith("plan.xlsx has two sheets that match the crop schedule sheet")
    assert (error.sheet, error.row) == (None, None)


def test_unknown_sheet_is_ignored_with_warning(read_xlsx):
    sheets = good_sheets()
    sheets["Notes"] = [["anything"], ["at all"]]

    plan = read_xlsx(sheets)

    assert plan.errors == []
    [warning] = plan.warnings
    assert warning.sheet == "Notes"
    assert "ignored" in warning.message


def test_missing_required_sheet_rejects_plan(read_xlsx):
    sheets = good_sheets()
    del sheets[RECIPES]

    plan = read_xlsx(sheets)

    assert plan.plan_rejected is True
    [error] = plan.errors
    assert error.message.startswith("plan.xlsx has no recipes sheet")
    assert "'farms'" in error.message  # lists the sheets found
    assert (error.sheet, error.row, error.field) == (None, None, None)


def test_missing_required_column_rejects_plan(read_xlsx):
    sheets = good_sheets()
    for row in sheets[SCHEDULE]:
        del row[1]  # crop_count

    plan = read_xlsx(sheets)

    assert plan.plan_rejected is True
    [error] = plan.errors
    assert (error.sheet, error.row, error.column, error.field) == ("crop schedule", 1, None, "crop_count")
    assert "no crop_count column" in error.message
    assert plan.lots == []


def test_repeated_column_rejects_plan(read_xlsx):
    sheets = good_sheets()
    sheets[FARMS][0].append("farm_id")
    sheets[FARMS][1].append(5)

    plan = read_xlsx(sheets)

    assert plan.plan_rejected is True
    [error] = plan.errors
    assert (error.sheet, error.row, error.column, error.field, error.value) == (
        "farms",
        1,
        "D",
        "id",
        "farm_id",
    )
    assert "columns A ('id') and D ('farm_id')" in error.message


def test_empty_required_sheet_rejects_plan(read_xlsx):
    sheets = good_sheets()
    sheets[RECIPES] = []

    plan = read_xlsx(sheets)

    assert plan.plan_rejected is True
    assert [(error.sheet, error.row) for error in plan.errors] == [("recipes", None)]
    assert "empty" in plan.errors[0].message


def test_missing_farms_sheet_leaves_stored_farms_usable(read_xlsx):
    sheets = good_sheets()
    del sheets[FARMS]

    plan = read_xlsx(sheets, known_farm_ids=frozenset({1}))

    assert [lot.row for lot in plan.lots] == [2]
    [error] = plan.errors
    assert (error.sheet, error.row, error.column, error.field, error.value) == (
        "crop schedule",
        3,
        "D",
        "farm_id",
        "2",
    )
    assert plan.plan_rejected is False


def test_schedule_without_rows_warns(read_xlsx):
    sheets = good_sheets()
    sheets[SCHEDULE] = sheets[SCHEDULE][:1]
    sheets[RECOMMENDATIONS] = sheets[RECOMMENDATIONS][:1]

    plan = read_xlsx(sheets)

    assert plan.errors == []
    [warning] = plan.warnings
    assert warning.sheet == "crop schedule"
    assert "no rows" in warning.message


def test_recommendations_sheet_is_optional(read_xlsx):
    sheets = good_sheets()
    del sheets[RECOMMENDATIONS]

    plan = read_xlsx(sheets)

    assert plan.errors == []
    assert [lot.recommended_recipe_ids for lot in plan.lots] == [(), ()]


def test_datetime_header_cell_does_not_match_a_column(read_xlsx):
    sheets = good_sheets()
    sheets[SCHEDULE][0].append(dt.date(2027, 1, 1))

    plan = read_xlsx(sheets)

    [warning] = plan.warnings
    assert (warning.row, warning.column, warning.value) == (1, "F", "2027-01-01")
