"""State shared by the commands of one CLI run, and error-to-exit-code mapping."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from cropflow.errors import (
    ConfigError,
    CropflowError,
    QueueUnavailableError,
    StoreUnavailableError,
)
from cropflow.report import EXIT_REJECTED, EXIT_UNAVAILABLE, EXIT_USAGE
from cropflow.runtime import Runtime, get_runtime

logger = logging.getLogger("cropflow.cli")

# Piped output is not cut to a terminal's width.
stdout = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 240)
stderr = Console(stderr=True, highlight=False)


def runtime() -> Runtime:
    return get_runtime()


@contextlib.contextmanager
def exit_on_error() -> Iterator[None]:
    """Print a cropflow error as one line and exit with its code, never a traceback."""
    try:
        yield
    except (StoreUnavailableError, QueueUnavailableError) as exc:
        logger.error("%s", exc)
        raise typer.Exit(EXIT_UNAVAILABLE) from exc
    except ConfigError as exc:
        logger.error("%s", exc)
        raise typer.Exit(EXIT_USAGE) from exc
    except CropflowError as exc:
        logger.error("%s", exc)
        raise typer.Exit(EXIT_REJECTED) from exc
    except SQLAlchemyError as exc:
        logger.error("Database operation failed: %s", str(exc).splitlines()[0])
        logger.debug("Database error details", exc_info=True)
        raise typer.Exit(EXIT_REJECTED) from exc


def is_interactive() -> bool:
    return sys.stderr.isatty()
