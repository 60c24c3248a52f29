"""Records of a read and validated workbook: a plan of lots, and its problems.

These records are the contract between ``cropflow.workbook`` (which builds
them) and ``cropflow.store`` (which stores them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """One error or warning, located at a cell where it has one.

    ``sheet`` is the sheet name as written in the file, ``row`` the row number
    the spreadsheet program shows (1-based, header included), ``column`` the
    column letter, ``field`` the canonical column name (``crop_count``) and
    ``value`` the value found, as text. Each is None where the problem has no
    such place, for example a missing sheet.
    """

    message: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    field: str | None = None
    value: str | None = None

    @property
    def location(self) -> str:
        """Return ``sheet!C7`` or the part of it that is known."""
        if self.sheet is None:
            return ""
        if self.row is None:
            return self.sheet
        return f"{self.sheet}!{self.column or ''}{self.row}"

    def to_json(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "value": self.value,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class RecipeRow:
    """A grow recipe from the ``recipes`` sheet."""

    recipe_id: int
    name: str | None
    light_intensity: float
    lights_on: float
    lights_off: float
    co2_ppm: float
    # Extra columns (``temperature_c`` ...) by canonical column name.
    parameters: dict[str, float | str]
    row: int


@dataclass(frozen=True, slots=True)
class FarmRow:
    """A farm from the ``farms`` sheet."""

    farm_id: int
    name: str
    timezone: str | None
    row: int


@dataclass(frozen=True, slots=True)
class LotRow:
    """A valid schedule row joined with its recommendation row."""

    row: int
    cultivar_name: str  # trimmed, inner spaces collapsed, spelling kept
    cultivar_key: str  # identity: trimmed, case-folded, inner spaces collapsed
    crop_count: int
    scheduled_date: dt.date
    farm_id: int
    default_recipe_id: int
    # Recommended recipe ids, most preferred first; empty without a row.
    recommended_recipe_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class RejectedLot:
    """A schedule row that was not accepted, with every reason."""

    row: int
    cultivar_name: str | None
    scheduled_date: dt.date | None
    problems: tuple[Problem, ...]


@dataclass(slots=True)
class ParsedPlan:
    """The outcome of reading and validating one workbook.

    ``errors`` lists every error once. A schedule row with an error, or one
    that uses an invalid recipe, farm or recommendation row, becomes a
    ``RejectedLot`` with its reasons. Structural problems (not a spreadsheet,
    over a limit, a missing sheet or column) set ``plan_rejected``: such a
    plan stores nothing, even with ``--skip-invalid-lots``.
    """

    file_name: str
    sha256: str
    as_of: dt.date
    recipes: list[RecipeRow] = field(default_factory=list)
    farms: list[FarmRow] = field(default_factory=list)
    lots: list[LotRow] = field(default_factory=list)
    rejected_lots: list[RejectedLot] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    plan_rejected: bool = False

    @property
    def is_clean(self) -> bool:
        return not self.errors

    @property
    def crop_total(self) -> int:
        return sum(lot.crop_count for lot in self.lots)
