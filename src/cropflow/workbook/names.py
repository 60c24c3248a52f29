"""Sheet and column names of the crop-plan workbook, and how written names match them.

Names match case-insensitively, ignoring surrounding spaces and treating
space, ``_`` and ``-`` as the same character, so ``Crop Schedule``,
``crop_schedule`` and `` crop-schedule `` are one name.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s_\-]+")

RECIPES = "recipes"
CROP_SCHEDULE = "crop_schedule"
RECOMMENDATIONS = "recipe_recommendations"
FARMS = "farms"

# Canonical sheet name -> every normalised name that selects it.
SHEET_ALIASES: dict[str, tuple[str, ...]] = {
    RECIPES: ("recipes",),
    CROP_SCHEDULE: ("crop_schedule", "schedule"),
    RECOMMENDATIONS: ("recipe_recommendations", "recommendations"),
    FARMS: ("farms",),
}
REQUIRED_SHEETS = (RECIPES, CROP_SCHEDULE)

# Sheet names as the spec writes them, for messages.
SHEET_TITLES = {
    RECIPES: "recipes",
    CROP_SCHEDULE: "crop schedule",
    RECOMMENDATIONS: "recipe_recommendations",
    FARMS: "farms",
}

# Canonical sheet name -> canonical column name -> accepted normalised names.
COLUMN_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    RECIPES: {
        "id": ("id", "recipe_id"),
        "name": ("name",),
        "light_intensity": ("light_intensity",),
        "lights_on": ("lights_on",),
        "lights_off": ("lights_off",),
        "co2_ppm": ("co2_ppm",),
    },
    CROP_SCHEDULE: {
        "cultivar_name": ("cultivar_name", "cultivar"),
        "crop_count": ("crop_count",),
        "date": ("date", "scheduled_date"),
        "farm_id": ("farm_id",),
        "default_recipe": ("default_recipe", "default_recipe_id"),
    },
    RECOMMENDATIONS: {
        "cultivar_name": ("cultivar_name",),
        "valid_for_date": ("valid_for_date",),
        "recipe_ids": ("recipe_ids",),
    },
    FARMS: {
        "id": ("id", "farm_id"),
        "name": ("name",),
        "timezone": ("timezone",),
    },
}

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    RECIPES: ("id", "light_intensity", "lights_on", "lights_off", "co2_ppm"),
    CROP_SCHEDULE: ("cultivar_name", "crop_count", "date", "farm_id", "default_recipe"),
    RECOMMENDATIONS: ("cultivar_name", "valid_for_date", "recipe_ids"),
    FARMS: ("id", "name"),
}

# Sheets whose unknown columns are data (extra recipe parameters), not mistakes.
SHEETS_KEEPING_EXTRA_COLUMNS = frozenset({RECIPES})


def normalize_name(text: str) -> str:
    """Return the form of a sheet or column name that matching compares."""
    return _SEPARATORS.sub("_", text.strip().casefold()).strip("_")


def _invert(aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {alias: canonical for canonical, names in aliases.items() for alias in names}


_SHEET_BY_ALIAS = _invert(SHEET_ALIASES)
_COLUMN_BY_ALIAS = {sheet: _invert(columns) for sheet, columns in COLUMN_ALIASES.items()}


def canonical_sheet(name: str) -> str | None:
    """Return the canonical name of the crop-plan sheet ``name`` selects, or None."""
    return _SHEET_BY_ALIAS.get(normalize_name(name))


def canonical_column(sheet: str, header: str) -> str | None:
    """Return the canonical column that ``header`` selects in ``sheet``, or None."""
    return _COLUMN_BY_ALIAS[sheet].get(normalize_name(header))


def column_letter(index: int) -> str:
    """Return the spreadsheet letter of a 0-based column index (0 is A, 26 is AA)."""
    letters = ""
    number = index + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def column_index(letters: str) -> int:
    """Return the 0-based index of a column given by its letters."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number - 1
