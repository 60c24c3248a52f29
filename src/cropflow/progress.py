"""The progress interface of long work; the CLI draws bars from it."""


class Progress:
    """Receives the progress of long phases. This base class ignores it."""

    def start(self, phase: str, total: int) -> None:
        """Start a phase of ``total`` units."""

    def advance(self, phase: str, amount: int) -> None:
        """Add ``amount`` done units to ``phase``."""

    def update(self, phase: str, completed: int) -> None:
        """Set the done units of ``phase`` to ``completed``."""

    def finish(self, phase: str) -> None:
        """Mark ``phase`` complete."""
