"""Read a crop-plan workbook and validate it into a plan of lots."""

from cropflow.workbook.limits import WorkbookLimits
from cropflow.workbook.parse import file_sha256, read_plan
from cropflow.workbook.plan import (
    FarmRow,
    LotRow,
    ParsedPlan,
    Problem,
    RecipeRow,
    RejectedLot,
)

__all__ = [
    "FarmRow",
    "LotRow",
    "ParsedPlan",
    "Problem",
    "RecipeRow",
    "RejectedLot",
    "WorkbookLimits",
    "file_sha256",
    "read_plan",
]
