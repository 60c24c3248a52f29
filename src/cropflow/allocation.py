"""The rule that gives each batch of a lot its recipe."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

RecipeT = TypeVar("RecipeT")

RECOMMENDED = "recommended"
DEFAULT = "default"


def allocate_recipes(
    crop_count: int, recommended: Sequence[RecipeT], default: RecipeT
) -> list[tuple[RecipeT, str]]:
    """Return the recipe and its source for batches 1..crop_count, in order.

    Batch i gets ``recommended[i - 1]`` while i <= len(recommended) and the
    default recipe after that; recommendations beyond ``crop_count`` are unused.
    No batch is ever dropped: the result always has ``crop_count`` entries.
    """
    used = min(crop_count, len(recommended))
    allocation = [(recommended[i], RECOMMENDED) for i in range(used)]
    allocation.extend([(default, DEFAULT)] * (crop_count - used))
    return allocation
