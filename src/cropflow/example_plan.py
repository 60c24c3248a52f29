"""Write a realistic example crop-plan workbook.

The setpoints are typical of indoor leafy-green and herb production: light
intensity as PPFD in µmol/m²/s, a photoperiod in hours, CO2 enrichment in
ppm, and climate and nutrient targets as extra recipe parameters.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

FARMS = [
    (1, "Compton", "America/Los_Angeles"),
    (2, "Kearny", "America/New_York"),
    (3, "Rotterdam Delfshaven", "Europe/Amsterdam"),
]

# id, name, PPFD, hours on, CO2 ppm, temperature °C, humidity %, EC mS/cm, pH
RECIPES = [
    (1, "Leafy standard", 220, 16, 900, 21.0, 65, 1.4, 6.0),
    (2, "Leafy high light", 300, 18, 1100, 22.0, 62, 1.6, 5.9),
    (3, "Lettuce cool finish", 200, 16, 800, 18.5, 70, 1.2, 6.1),
    (4, "Basil warm", 280, 18, 1000, 24.0, 60, 1.8, 5.8),
    (5, "Basil compact", 330, 16, 1200, 23.0, 58, 2.0, 5.9),
    (6, "Brassica standard", 250, 17, 1000, 20.0, 65, 1.8, 6.0),
    (7, "Brassica red colour", 350, 16, 1000, 17.0, 65, 2.0, 6.2),
    (8, "Microgreens", 150, 14, 800, 21.0, 75, 1.0, 6.0),
    (9, "Herb standard", 250, 16, 900, 22.0, 62, 1.6, 6.0),
    (10, "Spinach bolt guard", 230, 12, 900, 18.0, 68, 1.8, 6.2),
]

# Display name, default recipe, recipes the growers may recommend.
CULTIVARS = [
    ("Basil Genovese", 4, [5, 9, 2]),
    ("Thai Basil", 4, [9, 5]),
    ("Lettuce Butterhead", 1, [3, 2]),
    ("Lettuce Lollo Rosso", 1, [3, 7, 2]),
    ("Romaine Little Gem", 3, [1, 2]),
    ("Kale Red Russian", 6, [7, 2]),
    ("Arugula Astro", 6, [1, 2, 7]),
    ("Spinach Space", 10, [1, 3]),
    ("Cilantro Santo", 9, [10, 1]),
    ("Mizuna Red", 6, [7, 1]),
    ("Pea Shoots", 8, [1]),
    ("Radish Sango Microgreens", 8, [7, 1]),
    ("Swiss Chard Bright Lights", 6, [7, 3, 1]),
]


@dataclass(frozen=True, slots=True)
class ExamplePlanSummary:
    path: Path
    first_date: dt.date
    last_date: dt.date
    lots: int
    batches: int
    recommendations: int


def write_example_plan(path: Path, *, start: dt.date, days: int = 60, seed: int = 7) -> ExamplePlanSummary:
    """Write a plan of ``days`` grow days from ``start`` to ``path`` (.xlsx).

    The same arguments always give the same cells.
    """
    rng = random.Random(seed)
    schedule = _schedule_rows(rng, start, days)
    recommendations = _recommendation_rows(rng, schedule)

    path.parent.mkdir(parents=True, exist_ok=True)
    # A fixed creation time keeps the file's bytes, and so its SHA-256, stable.
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": False})
    workbook.set_properties({"title": "Crop plan", "author": "cropflow example", "created": dt.datetime(2026, 1, 1)})
    header = workbook.add_format({"bold": True, "bg_color": "#DDEBD9"})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})

    _write_recipes(workbook, header)
    _write_schedule(workbook, header, date_format, schedule)
    _write_recommendations(workbook, header, date_format, recommendations)
    _write_farms(workbook, header)
    workbook.close()

    return ExamplePlanSummary(
        path=path,
        first_date=start,
        last_date=start + dt.timedelta(days=days - 1),
        lots=len(schedule),
        batches=sum(row[1] for row in schedule),
        recommendations=len(recommendations),
    )


def _schedule_rows(rng: random.Random, start: dt.date, days: int) -> list[tuple[str, int, dt.date, int, int]]:
    rows = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        for farm_id, _, _ in FARMS:
            # Each farm seeds a few cultivars a day, more on weekdays.
            lot_count = rng.randint(2, 4) if day.weekday() < 5 else rng.randint(1, 2)
            for name, default_recipe, _ in rng.sample(CULTIVARS, lot_count):
                rows.append((name, rng.randint(2, 12), day, farm_id, default_recipe))
    return rows


def _recommendation_rows(
    rng: random.Random, schedule: list[tuple[str, int, dt.date, int, int]]
) -> list[tuple[str, dt.date, str]]:
    options = {name: recommended for name, _, recommended in CULTIVARS}
    keys = sorted({(name, day) for name, _, day, _, _ in schedule}, key=lambda key: (key[1], key[0]))
    rows = []
    for name, day in keys:
        if rng.random() < 0.45:
            continue
        # Lists of one to five recipes; some are longer than a lot's crop count.
        length = rng.randint(1, 5)
        recipe_ids = [rng.choice(options[name]) for _ in range(length)]
        rows.append((name, day, ", ".join(str(recipe_id) for recipe_id in recipe_ids)))
    return rows


def _write_recipes(workbook: xlsxwriter.Workbook, header: object) -> None:
    sheet = workbook.add_worksheet("recipes")
    columns = ["id", "name", "light_intensity", "lights_on", "lights_off", "co2_ppm",
               "temperature_c", "humidity_pct", "ec", "ph"]
    sheet.write_row(0, 0, columns, header)
    for row, (recipe_id, name, ppfd, hours_on, co2, temperature, humidity, ec, ph) in enumerate(RECIPES, start=1):
        sheet.write_row(row, 0, [recipe_id, name, ppfd, hours_on, 24 - hours_on, co2, temperature, humidity, ec, ph])
    sheet.set_column(1, 1, 22)
    sheet.set_column(2, 9, 14)


def _write_schedule(workbook: xlsxwriter.Workbook, header: object, date_format: object, rows: list) -> None:
    sheet = workbook.add_worksheet("crop schedule")
    sheet.write_row(0, 0, ["cultivar_name", "crop_count", "date", "farm_id", "default_recipe"], header)
    for row, (name, count, day, farm_id, recipe_id) in enumerate(rows, start=1):
        sheet.write_string(row, 0, name)
        sheet.write_number(row, 1, count)
        sheet.write_datetime(row, 2, dt.datetime.combine(day, dt.time()), date_format)
        sheet.write_number(row, 3, farm_id)
        sheet.write_number(row, 4, recipe_id)
    sheet.set_column(0, 0, 26)
    sheet.set_column(1, 4, 14)
    sheet.freeze_panes(1, 0)


def _write_recommendations(workbook: xlsxwriter.Workbook, header: object, date_format: object, rows: list) -> None:
    sheet = workbook.add_worksheet("recipe_recommendations")
    sheet.write_row(0, 0, ["cultivar_name", "valid_for_date", "recipe_ids"], header)
    for row, (name, day, recipe_ids) in enumerate(rows, start=1):
        sheet.write_string(row, 0, name)
        sheet.write_datetime(row, 1, dt.datetime.combine(day, dt.time()), date_format)
        sheet.write_string(row, 2, recipe_ids)
    sheet.set_column(0, 0, 26)
    sheet.set_column(1, 2, 16)


def _write_farms(workbook: xlsxwriter.Workbook, header: object) -> None:
    sheet = workbook.add_worksheet("farms")
    sheet.write_row(0, 0, ["id", "name", "timezone"], header)
    for row, farm in enumerate(FARMS, start=1):
        sheet.write_row(row, 0, list(farm))
    sheet.set_column(1, 2, 22)
