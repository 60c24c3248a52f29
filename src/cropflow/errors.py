"""The exception tree of cropflow.

Inner code raises these; the CLI, the worker and the API log them once and
map them to an exit code or an HTTP status. Errors of SQLAlchemy, kombu and
the spreadsheet reader are translated at the boundary with ``raise ... from``.
"""


class CropflowError(Exception):
    """Root of every error that cropflow raises on purpose."""


class ConfigError(CropflowError):
    """Raised when a setting or a command-line option is invalid."""


class WorkbookError(CropflowError):
    """Raised when a workbook cannot be read at all (not for cell problems)."""


class StoreError(CropflowError):
    """Raised when the database rejects an operation."""


class StoreUnavailableError(StoreError):
    """Raised when the database cannot be reached."""


class DispatchError(CropflowError):
    """Raised when a batch message cannot be published or consumed."""


class QueueUnavailableError(DispatchError):
    """Raised when the message broker cannot be reached."""


class QueueMismatchError(DispatchError):
    """Raised when an existing queue was declared with other arguments."""
