"""Synthetic crop plans of a given number of batches, for the benchmark."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import xlsxwriter

FIRST_DAY = dt.date(2030, 1, 7)
DAYS = 365
CULTIVARS = 40
FARMS = 8
RECIPES = 30
MAX_CROPS_PER_LOT = 14
TIME_ZONES = ["America/Los_Angeles", "America/New_York", "Europe/Amsterdam", "Asia/Tokyo"]


def write_synthetic_plan(path: Path, *, batches: int, seed: int = 11) -> int:
    """Write a plan of exactly ``batches`` batches to ``path``; return its lot count.

    A year of dates, 40 cultivars, 8 farms, 30 recipes with extra parameters,
    and recommendation lists of 1 to 6 recipes for about half the
    (cultivar, date) keys.
    """
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})

    recipes = workbook.add_worksheet("recipes")
    recipes.write_row(0, 0, ["id", "name", "light_intensity", "lights_on", "lights_off", "co2_ppm",
                             "temperature_c", "humidity_pct", "ec", "ph"])
    for recipe_id in range(1, RECIPES + 1):
        hours_on = rng.choice([12, 14, 16, 18])
        recipes.write_row(recipe_id, 0, [
            recipe_id, f"recipe {recipe_id}", rng.randrange(150, 400, 10), hours_on, 24 - hours_on,
            rng.randrange(800, 1300, 50), rng.choice([18.0, 20.0, 22.0, 24.0]), rng.randrange(55, 80),
            rng.choice([1.2, 1.4, 1.6, 1.8, 2.0]), rng.choice([5.8, 6.0, 6.2]),
        ])

    schedule = workbook.add_worksheet("crop schedule")
    schedule.write_row(0, 0, ["cultivar_name", "crop_count", "date", "farm_id", "default_recipe"])
    used_keys: set[tuple[int, int]] = set()
    remaining, row = batches, 0
    while remaining > 0:
        row += 1
        cultivar, offset = rng.randrange(CULTIVARS), rng.randrange(DAYS)
        count = min(rng.randint(1, MAX_CROPS_PER_LOT), remaining)
        remaining -= count
        used_keys.add((cultivar, offset))
        schedule.write_string(row, 0, f"Cultivar {cultivar:02d}")
        schedule.write_number(row, 1, count)
        schedule.write_datetime(row, 2, dt.datetime.combine(FIRST_DAY + dt.timedelta(days=offset), dt.time()),
                                date_format)
        schedule.write_number(row, 3, rng.randint(1, FARMS))
        schedule.write_number(row, 4, rng.randint(1, RECIPES))
    lots = row

    recommendations = workbook.add_worksheet("recipe_recommendations")
    recommendations.write_row(0, 0, ["cultivar_name", "valid_for_date", "recipe_ids"])
    row = 0
    for cultivar, offset in sorted(used_keys, key=lambda key: (key[1], key[0])):
        if rng.random() < 0.5:
            continue
        row += 1
        recipe_ids = ", ".join(str(rng.randint(1, RECIPES)) for _ in range(rng.randint(1, 6)))
        recommendations.write_string(row, 0, f"Cultivar {cultivar:02d}")
        recommendations.write_datetime(
            row, 1, dt.datetime.combine(FIRST_DAY + dt.timedelta(days=offset), dt.time()), date_format
        )
        recommendations.write_string(row, 2, recipe_ids)

    farms = workbook.add_worksheet("farms")
    farms.write_row(0, 0, ["id", "name", "timezone"])
    for farm_id in range(1, FARMS + 1):
        farms.write_row(farm_id, 0, [farm_id, f"Farm {farm_id}", TIME_ZONES[farm_id % len(TIME_ZONES)]])

    workbook.close()
    return lots
