"""``cropflow ingest``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from cropflow.cli.context import exit_on_error, runtime
from cropflow.cli.progress import BarProgress
from cropflow.cli.render import print_ingest_report, print_json
from cropflow.errors import CropflowError


def ingest(
    file: Annotated[Path, typer.Argument(help="Workbook: .xlsx, .xlsm, .ods or .xls.", exists=True, dir_okay=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON report on stdout.")] = False,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Reject dates before this day (YYYY-MM-DD). Default: today."),
    ] = None,
    skip_invalid_lots: Annotated[
        bool, typer.Option(help="Store the clean lots and list the rejected ones (exit status 1).")
    ] = False,
    dry_run: Annotated[bool, typer.Option(help="Validate and report without storing anything.")] = False,
    wait: Annotated[
        bool, typer.Option(help="Distributed mode: follow the plan until every batch is dispatched.")
    ] = False,
) -> None:
    """Validate a crop-plan workbook, store its plan and dispatch its batches.

    Exit status: 0 accepted or duplicate, 1 rejected or partial, 2 usage
    error, 3 database or queue unreachable.
    """
    from cropflow import ingest as ingest_service

    options = ingest_service.IngestOptions(
        as_of=as_of.date() if as_of else dt.date.today(),
        skip_invalid_lots=skip_invalid_lots,
        dry_run=dry_run,
        wait=wait,
    )
    with exit_on_error(), BarProgress() as progress:
        try:
            report = ingest_service.ingest_file(runtime(), file, options, progress)
        except (CropflowError, SQLAlchemyError) as exc:
            if as_json:
                # Tools get one JSON object on stdout also when the ingest fails.
                print_json({"status": "error", "plan_id": None, "file": file.name, "message": str(exc)})
            raise

    if as_json:
        print_json(report.to_json())
    else:
        print_ingest_report(report)
    raise typer.Exit(report.exit_code)


def register(app: typer.Typer) -> None:
    app.command()(ingest)
