"""The size limits a workbook must stay within before it is parsed in full."""

from __future__ import annotations

from dataclasses import dataclass

from cropflow.settings import Settings


@dataclass(frozen=True, slots=True)
class WorkbookLimits:
    """Size limits for one workbook, each a setting of the same name.

    ``max_compression_ratio`` is the largest uncompressed-to-compressed size
    ratio allowed for one zip member. ``max_rows_per_sheet`` counts the rows a
    sheet spans below its header, blank rows included.
    """

    max_file_bytes: int
    max_uncompressed_bytes: int
    max_compression_ratio: float
    max_rows_per_sheet: int
    max_crops_per_lot: int
    # Cells from A1 to a sheet's last used cell; the reader allocates them all.
    max_cells_per_sheet: int = 20_000_000

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkbookLimits:
        return cls(
            max_file_bytes=settings.max_file_bytes,
            max_uncompressed_bytes=settings.max_uncompressed_bytes,
            max_compression_ratio=settings.max_compression_ratio,
            max_rows_per_sheet=settings.max_rows_per_sheet,
            max_crops_per_lot=settings.max_crops_per_lot,
            max_cells_per_sheet=settings.max_cells_per_sheet,
        )
