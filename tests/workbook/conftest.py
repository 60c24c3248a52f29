from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cropflow.settings import Settings
from cropflow.workbook import ParsedPlan, WorkbookLimits, read_plan

from .builders import AS_OF, Sheets, write_xlsx


@pytest.fixture
def limits() -> WorkbookLimits:
    return WorkbookLimits.from_settings(Settings())


@pytest.fixture
def read_xlsx(tmp_path: Path, limits: WorkbookLimits) -> Callable[..., ParsedPlan]:
    """Return a function that writes sheets as an xlsx file and reads it as a plan.

    Keyword arguments of ``write_xlsx`` (``hidden``, ``date_1904``,
    ``first_row``, ``first_column``) go to the writer, the rest to ``read_plan``.
    """

    def read(sheets: Sheets, **options: object) -> ParsedPlan:
        writer_keys = {"hidden", "date_1904", "first_row", "first_column"}
        writer_options = {key: value for key, value in options.items() if key in writer_keys}
        read_options = {key: value for key, value in options.items() if key not in writer_keys}
        read_options.setdefault("as_of", AS_OF)
        read_options.setdefault("limits", limits)
        path = write_xlsx(tmp_path / "plan.xlsx", sheets, **writer_options)  # type: ignore[arg-type]
        return read_plan(path, **read_options)  # type: ignore[arg-type]

    return read
