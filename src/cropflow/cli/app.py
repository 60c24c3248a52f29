"""The ``cropflow`` Typer application: global options and command registration."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from cropflow.cli import admin, consume, dead_letters, distributed, ingest, query, serve
from cropflow.logs import configure_logging
from cropflow.report import EXIT_USAGE
from cropflow.runtime import Runtime, set_runtime
from cropflow.settings import Settings

logger = logging.getLogger("cropflow.cli")

app = typer.Typer(
    name="cropflow",
    help=(
        "Turn crop-plan workbooks into batches dispatched to one queue per grow date.\n\n"
        "Example: cropflow ingest plan.xlsx && cropflow consume --from 2027-01-15 --until-empty"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@app.callback()
def configure(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Add debug logs on stderr.")] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Folder of the embedded database; overrides CROPFLOW_DATA_DIR. Give it before the command name.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Load settings from CROPFLOW_* variables and set up logging."""
    overrides = {"data_dir": data_dir} if data_dir is not None else {}
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        for error in exc.errors():
            name = "CROPFLOW_" + "_".join(str(part) for part in error["loc"]).upper()
            typer.echo(f"Invalid setting {name}={error.get('input')!r}: {error['msg']}.", err=True)
        raise typer.Exit(EXIT_USAGE) from exc
    configure_logging(verbose=verbose, log_format=settings.log_format)
    set_runtime(Runtime(settings))


ingest.register(app)
query.register(app)
consume.register(app)
admin.register(app)
distributed.register(app)
dead_letters.register(app)
serve.register(app)


def main() -> None:
    try:
        app()
    except Exception:
        # Expected failures are handled where they happen; this is a bug.
        logger.critical("cropflow failed unexpectedly; this is a bug. Details:", exc_info=True)
        raise SystemExit(1) from None
