"""Fixtures shared by every test package: settings, runtime and a stored plan."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator

import pytest

from cropflow.runtime import Runtime, set_runtime
from cropflow.settings import Settings
from cropflow.workbook.plan import FarmRow, LotRow, ParsedPlan, RecipeRow

GROW_DAY = dt.date(2030, 3, 4)


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    for name in ("CROPFLOW_DATABASE_URL", "CROPFLOW_BROKER_URL", "CROPFLOW_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    return Settings(data_dir=tmp_path / "data", lease_s=30.0, poll_interval_s=0.05)


@pytest.fixture
def runtime(settings) -> Iterator[Runtime]:
    current = Runtime(settings)
    set_runtime(current)
    yield current
    current.close()


def recipe(recipe_id: int, *, co2_ppm: float = 900.0, row: int = 2, **parameters: float | str) -> RecipeRow:
    return RecipeRow(
        recipe_id=recipe_id,
        name=f"recipe {recipe_id}",
        light_intensity=250.0,
        lights_on=16.0,
        lights_off=8.0,
        co2_ppm=co2_ppm,
        parameters=dict(parameters) or {"temperature_c": 22.0},
        row=row,
    )


def lot(
    row: int,
    crop_count: int,
    *,
    cultivar: str = "Basil Genovese",
    day: dt.date = GROW_DAY,
    farm_id: int = 1,
    default_recipe_id: int = 1,
    recommended: tuple[int, ...] = (),
) -> LotRow:
    return LotRow(
        row=row,
        cultivar_name=" ".join(cultivar.split()),
        cultivar_key=" ".join(cultivar.split()).casefold(),
        crop_count=crop_count,
        scheduled_date=day,
        farm_id=farm_id,
        default_recipe_id=default_recipe_id,
        recommended_recipe_ids=recommended,
    )


def parsed_plan(lots: list[LotRow], *, recipes: list[RecipeRow] | None = None, name: str = "plan.xlsx") -> ParsedPlan:
    """Build a validated plan as the workbook package would, without a file."""
    content = repr((name, lots, recipes)).encode()
    return ParsedPlan(
        file_name=name,
        sha256=hashlib.sha256(content).hexdigest(),
        as_of=dt.date(2030, 1, 1),
        recipes=recipes if recipes is not None else [recipe(1), recipe(2, row=3), recipe(3, row=4)],
        farms=[FarmRow(farm_id=1, name="Compton", timezone="America/Los_Angeles", row=2),
               FarmRow(farm_id=2, name="Kearny", timezone=None, row=3)],
        lots=lots,
    )
