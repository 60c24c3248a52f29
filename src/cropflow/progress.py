"""The progress interface of long work; the CLI draws bars from it."""


class Progress:
    """Receives the progress of long phases. This base class ignores it."""

    def start(self, phase: str, total: int) -> None:
        """A phase of ``total`` units begins."""

    def advance(self, phase: str, amount: int) -> None:
        """``amount`` more units of ``phase`` are done."""

    def update(self, phase: str, completed: int) -> None:
        """``completed`` units of ``phase`` are done in all."""

    def finish(self, phase: str) -> None:
        """``phase`` is complete."""
