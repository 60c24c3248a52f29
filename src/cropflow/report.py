"""The outcome of ``cropflow ingest``, and its stable JSON form."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from cropflow.workbook.plan import Problem


class IngestStatus(enum.StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PARTIAL = "partial"
    DUPLICATE = "duplicate"


EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3


@dataclass(slots=True)
class IngestReport:
    status: IngestStatus
    file_name: str
    plan_id: int | None = None
    lots_accepted: int = 0
    lots_rejected: int = 0
    batches: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    rejected_lots: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = False

    @property
    def exit_code(self) -> int:
        if self.status in (IngestStatus.ACCEPTED, IngestStatus.DUPLICATE):
            return EXIT_OK
        return EXIT_REJECTED

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "plan_id": self.plan_id,
            "file": self.file_name,
            "dry_run": self.dry_run,
            "lots": {"accepted": self.lots_accepted, "rejected": self.lots_rejected},
            "batches": self.batches,
            "errors": [problem.to_json() for problem in self.errors],
            "warnings": [problem.to_json() for problem in self.warnings],
            "rejected_lots": self.rejected_lots,
        }
