"""A workbook with problems on every sheet reports each one at its exact place."""

from __future__ import annotations

import datetime as dt

from .builders import FARMS, RECIPES, RECOMMENDATIONS, SCHEDULE

DAY = dt.date(2027, 2, 1)

SHEETS = {
    RECIPES: [
        ["id", "name", "light_intensity", "lights_on", "lights_off", "co2_ppm"],
        ["abc", "No id", 250, 16, 8, 900],
        [2, "Herb", -1, 14, 10, 1000],
        [3, "Fruit", 400, 12, 12, "high"],
        [2, "Herb again", 300, 14, 10, 1000],
        [4, "Leafy", 250, 16, 8, 900],
    ],
    FARMS: [
        ["id", "name", "timezone"],
        [1, "Compton", "Nowhere/Land"],
        ["x", "Kent", None],
        [2, None, None],
        [3, "Dover", "Europe/London"],
    ],
    RECOMMENDATIONS: [
        ["cultivar_name", "valid_for_date", "recipe_ids"],
        ["Basil", "soon", "4"],
        ["Kale", DAY, "4, 99"],
        ["Mint", DAY, "4"],
        [" mint", DAY, "4"],
    ],
    SCHEDULE: [
        ["cultivar_name", "crop_count", "date", "farm_id", "default_recipe"],
        ["Chard", 2.3, DAY, 3, 4],
        ["Chard", 1, "next week", 3, 4],
        ["Chard", 1, 46000, 3, 4],
        ["Chard", 1, dt.date(2026, 6, 1), 3, 4],
        ["Chard", 1, DAY, 9, 4],
        ["Chard", 1, DAY, 3, 77],
        ["Chard", 20000, DAY, 3, 4],
        ["", 1, DAY, 3, 4],
        ["Chard", 1, DAY, 3, 4],
        ["Chard", 1, DAY, 1, 4],
        ["Kale", 1, DAY, 3, 4],
        ["Basil", 1, DAY, 3, 4],
        ["Mint", 1, DAY, 3, 4],
    ],
}


def test_every_problem_is_reported_at_its_location(read_xlsx):
    plan = read_xlsx(SHEETS)

    assert [(error.sheet, error.row, error.column, error.field, error.value) for error in plan.errors] == [
        ("recipes", 2, "A", "id", "abc"),
        ("recipes", 3, "C", "light_intensity", "-1"),
        ("recipes", 4, "F", "co2_ppm", "high"),
        ("recipes", 5, "A", "id", "2"),
        ("farms", 2, "C", "timezone", "Nowhere/Land"),
        ("farms", 3, "A", "id", "x"),
        ("farms", 4, "B", "name", ""),
        ("recipe_recommendations", 2, "B", "valid_for_date", "soon"),
        ("recipe_recommendations", 3, "C", "recipe_ids", "4, 99"),
        ("recipe_recommendations", 5, "B", "valid_for_date", "2027-02-01"),
        ("crop schedule", 2, "B", "crop_count", "2.3"),
        ("crop schedule", 3, "C", "date", "next week"),
        ("crop schedule", 4, "C", "date", "46000"),
        ("crop schedule", 5, "C", "date", "2026-06-01"),
        ("crop schedule", 6, "D", "farm_id", "9"),
        ("crop schedule", 7, "E", "default_recipe", "77"),
        ("crop schedule", 8, "B", "crop_count", "20000"),
        ("crop schedule", 9, "A", "cultivar_name", ""),
    ]
    assert plan.plan_rejected is False


def test_every_lot_but_the_clean_one_is_rejected(read_xlsx):
    plan = read_xlsx(SHEETS)

    assert [lot.row for lot in plan.lots] == [10]
    assert [rejected.row for rejected in plan.rejected_lots] == [2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14]


def test_lots_referencing_bad_rows_name_those_rows(read_xlsx):
    plan = read_xlsx(SHEETS)
    reasons = {
        rejected.row: [problem.message for problem in rejected.problems] for rejected in plan.rejected_lots
    }

    assert reasons[11] == ["farm_id 1 refers to farms row 2, which has errors"]
    assert reasons[12] == [
        "the recommendation for this lot comes from recipe_recommendations row 3, which has errors"
    ]
    assert reasons[13] == [
        "the recommendation for this lot may come from recipe_recommendations row 2, whose valid_for_date is invalid"
    ]
    assert reasons[14] == [
        (
            "the recommendation for this lot comes from recipe_recommendations rows 4 and 5, which repeat the same "
            "cultivar_name and valid_for_date"
        )
    ]
    # References to bad rows are not errors of their own: each error is listed once.
    assert all(
        problem not in plan.errors
        for row in (11, 12, 13, 14)
        for problem in plan.rejected_lots[row - 3].problems
    )


def test_only_valid_recipes_and_farms_are_kept(read_xlsx):
    plan = read_xlsx(SHEETS)

    assert [recipe.recipe_id for recipe in plan.recipes] == [4]
    assert [farm.farm_id for farm in plan.farms] == [3]
