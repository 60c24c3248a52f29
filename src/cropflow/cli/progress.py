"""Rich progress bars for the long phases of an ingest."""

from __future__ import annotations

from typing import Self

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from cropflow.cli.context import stderr
from cropflow.progress import Progress as ProgressBase

PHASE_LABELS = {"batches": "Creating batches", "dispatch": "Dispatching"}


class BarProgress(ProgressBase):
    """Draws one bar per phase on stderr; draws nothing when stderr is not a terminal."""

    def __init__(self) -> None:
        self._bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=stderr,
            transient=False,
            disable=not stderr.is_terminal,
        )
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> Self:
        self._bars.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._bars.stop()

    def start(self, phase: str, total: int) -> None:
        self._tasks[phase] = self._bars.add_task(PHASE_LABELS.get(phase, phase), total=total)

    def advance(self, phase: str, amount: int) -> None:
        if phase in self._tasks:
            self._bars.advance(self._tasks[phase], amount)

    def update(self, phase: str, completed: int) -> None:
        if phase in self._tasks:
            self._bars.update(self._tasks[phase], completed=completed)

    def finish(self, phase: str) -> None:
        if phase in self._tasks:
            task = self._tasks[phase]
            self._bars.update(task, completed=self._bars.tasks[task].total)
