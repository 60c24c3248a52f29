"""Recipes, farms and recommendations, and how their bad rows reject the lots that use them."""

from __future__ import annotations

import datetime as dt

import pytest

from .builders import FARMS, LOT_DAY, RECIPES, RECOMMENDATIONS, SCHEDULE, good_sheets


def _location(problem):
    return (problem.sheet, problem.row, problem.column, problem.field, problem.value)


def test_invalid_recipe_rejects_default_lots(read_xlsx):
    sheets = good_sheets()
    sheets[RECIPES][2][2] = -5  # recipe 2, row 3
    sheets[SCHEDULE][1][4] = 2  # lot on row 2 now defaults to recipe 2

    plan = read_xlsx(sheets)

    [error] = plan.errors
    assert _location(error) == ("recipes", 3, "C", "light_intensity", "-5")
    assert error.message == "light_intensity must be a number of at least 0, found -5"
    assert [recipe.recipe_id for recipe in plan.recipes] == [1, 3]
    assert [rejected.row for rejected in plan.rejected_lots] == [2, 3]
    # Row 2 also uses recipe 2 through its recommendation "3, 1,2".
    default_reference, recommended_reference = plan.rejected_lots[0].problems
    assert _location(default_reference) == ("crop schedule", 2, "E", "default_recipe", "2")
    assert default_reference.message == "default_recipe 2 refers to recipes row 3, which has errors"
    assert recommended_reference.message == (
        "recipe 2, recommended for this lot in recipe_recommendations row 2, refers to recipes row 3, "
        "which has errors"
    )
    assert (
        plan.rejected_lots[1].problems[0].message
        == "default_recipe 2 refers to recipes row 3, which has errors"
    )
    assert plan.lots == []
    assert plan.plan_rejected is False


def test_invalid_recipe_in_recommendation_rejects_lots_using_it(read_xlsx):
    sheets = good_sheets()
    sheets[RECIPES][3][5] = "lots"  # recipe 3, row 4, co2_ppm

    plan = read_xlsx(sheets)

    [error] = plan.errors
    assert _location(error) == ("recipes", 4, "F", "co2_ppm", "lots")
    [rejected] = plan.rejected_lots
    assert rejected.row == 2
    [reference] = rejected.problems
    assert _location(reference) == ("crop schedule", 2, "A", "cultivar_name", "Basil Genovese")
    assert reference.message == (
        "recipe 3, recommended for this lot in recipe_recommendations row 2, refers to recipes row 4, "
        "which has errors"
    )
    assert [lot.row for lot in plan.lots] == [3]


def test_duplicate_recipe_id_names_both_rows(read_xlsx):
    sheets = good_sheets()
    sheets[RECIPES][3][0] = 2  # row 4 repeats the id of row 3
    sheets[RECOMMENDATIONS][1][2] = "1"

    plan = read_xlsx(sheets)

    [error] = plan.errors
    assert _location(error) == ("recipes", 4, "A", "id", "2")
    assert error.message == "recipe id 2 is already used in row 3, but each recipe id must be unique"
    assert [recipe.recipe_id for recipe in plan.recipes] == [1]
    [reference] = plan.rejected_lots[0].problems
    assert reference.message == "default_recipe 2 refers to recipes rows 3 and 4, which repeat the same id"


def test_duplicate_farm_id_names_both_rows(read_xlsx):
    sheets = good_sheets()
    sheets[FARMS].append([1, "Compton again", None])  # row 4

    plan = read_xlsx(sheets)

    [error] = plan.errors
    assert _location(error) == ("farms", 4, "A", "id", "1")
    assert error.message == "farm id 1 is already used in row 2, but each farm id must be unique"
    assert [farm.farm_id for farm in plan.farms] == [2]
    [rejected] = plan.rejected_lots
    [reference] = rejected.problems
    assert _location(reference) == ("crop schedule", 2, "D", "farm_id", "1")
    assert reference.message == "farm_id 1 refers to farms rows 2 and 4, which repeat the same id"


def test_invalid_farm_row_rejects_its_lots(read_xlsx):
    sheets = good_sheets()
    sheets[FARMS][2][1] = None  # farm 2 has no name

    plan = read_xlsx(sheets)

    [error] = plan.errors
    assert _location(error) == ("farms", 3, "B", "name", "")
    assert error.message == "name must be a non-empty text, found an empty cell"
    [rejected] = plan.rejected_lots
    assert rejected.row == 3
    assert rejected.problems[0].message == "farm_id 2 refers to farms row 3, which has errors"


def test_invalid_timezone_is_rejected(read_xlsx):
    sheets = good_sheets()
    sheets[FARMS][2][2] = "Mars/Olympus_Mons"

    plan = read_xlsx(sheets)

    [error] = plan.errors
    assert _location(error) == ("farms", 3, "C", "timezone", "Mars/Olympus_Mons")
    assert error.message == (
        'timezone must be an IANA time zone name such as America/Los_Angeles, found "Mars/Olympus_Mons"'
    )


def test_duplicate_recommendation_key_names_both_rows(read_xlsx):
    sheets = good_sheets()
    sheets[RECOMMENDATIONS].append(["basil  genovese", LOT_DAY, 2])  # row 3

    plan = read_xlsx(sheets)

    [error] = plan.errors
    assert _location(error) == ("recipe_recommendations", 3, "B", "valid_for_date", "2027-01-15")
    assert error.message == (
        "the recommendation for basil genovese on 2027-01-15 is already given in row 2, "
        "but each cultivar_name and valid_for_date pair must appear once"
    )
    [rejected] = plan.rejected_lots
    assert rejected.row == 2
    assert rejected.problems[0].message == (
        "the recommendation for this lot comes from recipe_recommendations rows 2 and 3, "
        "which repeat the same cultivar_name and valid_for_date"
    )


def test_invalid_recommendation_rejects_lots_with_its_key(read_xlsx):
    sheets = good_sheets()
    sheets[RECOMMENDATIONS][1][2] = "3, 9"

    plan = read_xlsx(sheets)

    [error] = plan.errors
    assert _location(error) == ("recipe_recommendations", 2, "C", "recipe_ids", "3, 9")
    assert error.message == (
        "recipe_ids names recipe 9, which is neither in the recipes sheet nor an already stored recipe"
    )
    [rejected] = plan.rejected_lots
    assert rejected.row == 2
    assert rejected.problems[0].message == (
        "the recommendation for this lot comes from recipe_recommendations row 2, which has errors"
    )
    assert [lot.row for lot in plan.lots] == [3]


def test_bad_recommendation_date_rejects_cultivar_lots(read_xlsx):
    sheets = good_sheets()
    sheets[RECOMMENDATIONS][1][1] = "someday"
    sheets[SCHEDULE].append(["basil genovese", 1, dt.date(2027, 2, 1), 1, 1])  # row 4, another day

    plan = read_xlsx(sheets)

    [error] = plan.errors
    assert _location(error) == ("recipe_recommendations", 2, "B", "valid_for_date", "someday")
    assert [rejected.row for rejected in plan.rejected_lots] == [2, 4]
    assert plan.rejected_lots[1].problems[0].message == (
        "the recommendation for this lot may come from recipe_recommendations row 2, "
        "whose valid_for_date is invalid"
    )
    assert [lot.row for lot in plan.lots] == [3]


@pytest.mark.parametrize(
    ("cell", "expected"), [("3;1", (3, 1)), (" 2 ", (2,)), (2, (2,)), ("3, 1,2", (3, 1, 2))]
)
def test_recipe_ids_accept_lists_and_single_number(read_xlsx, cell, expected):
    sheets = good_sheets()
    sheets[RECOMMENDATIONS][1][2] = cell

    plan = read_xlsx(sheets)

    assert plan.errors == []
    assert plan.lots[0].recommended_recipe_ids == expected


@pytest.mark.parametrize("cell", ["3,,1", "3 1", "three", 2.5, None])
def test_malformed_recipe_ids_are_rejected(read_xlsx, cell):
    sheets = good_sheets()
    sheets[RECOMMENDATIONS][1][2] = cell

    plan = read_xlsx(sheets)

    [error] = plan.errors
    assert (error.sheet, error.row, error.column, error.field) == (
        "recipe_recommendations",
        2,
        "C",
        "recipe_ids",
    )
    assert error.message.startswith(
        'recipe_ids must be recipe ids separated by commas or semicolons, such as "3, 1, 2"'
    )


def test_stored_recipe_may_be_recommended(read_xlsx):
    sheets = good_sheets()
    sheets[RECOMMENDATIONS][1][2] = "3, 40"

    plan = read_xlsx(sheets, known_recipe_ids=frozenset({40}))

    assert plan.errors == []
    assert plan.lots[0].recommended_recipe_ids == (3, 40)


def test_unused_recommendation_is_a_warning(read_xlsx):
    sheets = good_sheets()
    sheets[RECOMMENDATIONS].append(["Kale", dt.date(2027, 3, 1), "1"])  # row 3

    plan = read_xlsx(sheets)

    assert plan.errors == []
    [warning] = plan.warnings
    assert _location(warning) == ("recipe_recommendations", 3, "A", "cultivar_name", "Kale")
    assert warning.message == "no schedule row uses this recommendation for Kale on 2027-03-01"


def test_high_co2_is_a_warning(read_xlsx):
    sheets = good_sheets()
    sheets[RECIPES][1][5] = 5200

    plan = read_xlsx(sheets)

    assert plan.errors == []
    [warning] = plan.warnings
    assert _location(warning) == ("recipes", 2, "F", "co2_ppm", "5200")
    assert warning.message.startswith("co2_ppm 5200 is above 5,000 ppm")
    assert plan.recipes[0].co2_ppm == 5200


def test_co2_at_exposure_limit_is_no_warning(read_xlsx):
    sheets = good_sheets()
    sheets[RECIPES][1][5] = 5000

    plan = read_xlsx(sheets)

    assert plan.warnings == []


def test_recipe_name_is_optional(read_xlsx):
    sheets = good_sheets()
    for row in sheets[RECIPES]:
        del row[1]

    plan = read_xlsx(sheets)

    assert plan.errors == []
    assert [recipe.name for recipe in plan.recipes] == [None, None, None]


def test_schedule_error_rejects_only_its_lot(read_xlsx):
    sheets = good_sheets()
    sheets[SCHEDULE][2][3] = "x"

    plan = read_xlsx(sheets)

    assert plan.plan_rejected is False
    assert [lot.row for lot in plan.lots] == [2]
    assert [rejected.row for rejected in plan.rejected_lots] == [3]
    assert len(plan.errors) == 1


def test_each_error_is_listed_once_when_many_lots_reference_it(read_xlsx):
    sheets = good_sheets()
    sheets[RECIPES][1][3] = "long"  # recipe 1, row 2
    sheets[RECOMMENDATIONS][1][2] = "3"
    sheets[SCHEDULE] += [["Kale", 1, dt.date(2027, 1, 20 + day), 2, 1] for day in range(5)]

    plan = read_xlsx(sheets)

    assert len(plan.errors) == 1
    assert len(plan.rejected_lots) == 6
    assert all(len(rejected.problems) == 1 for rejected in plan.rejected_lots)
