"""``cropflow plans``, ``cropflow batches`` and ``cropflow status``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from cropflow.cli.context import exit_on_error, runtime, stdout
from cropflow.cli.render import print_json, rows_table, status_table
from cropflow.dispatch.status import date_status
from cropflow.store import queries
from cropflow.store.tables import BatchStatus

JSON_OPTION = typer.Option("--json", help="Print JSON on stdout.")
DATE_FORMATS = ["%Y-%m-%d"]
# Largest id or count an option takes: the database stores 32-bit integers.
MAX_ID = 2**31 - 1
# Rows a table shows unless --limit is given.
TABLE_ROW_LIMIT = 500


def plans(as_json: Annotated[bool, JSON_OPTION] = False) -> None:
    """List stored plans."""
    with exit_on_error(), runtime().db.session() as session:
        rows = queries.list_plans(session)
    if as_json:
        print_json(rows)
        return
    columns = ["plan_id", "file", "status", "as_of", "lots", "rejected_lots", "batches", "batches_created",
               "warnings", "created_at"]
    stdout.print(rows_table(rows, columns, title=f"{len(rows)} plans"))


def batches(
    plan: Annotated[int | None, typer.Option(min=1, max=MAX_ID, help="Only batches of this plan id.")] = None,
    date: Annotated[dt.datetime | None, typer.Option(formats=DATE_FORMATS, help="Only this grow date.")] = None,
    farm: Annotated[int | None, typer.Option(min=1, max=MAX_ID, help="Only this farm id.")] = None,
    cultivar: Annotated[str | None, typer.Option(help="Only this cultivar (case and spacing ignored).")] = None,
    status: Annotated[BatchStatus | None, typer.Option(help="Only batches in this status.")] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            min=1, max=MAX_ID, help=f"Show at most this many (default {TABLE_ROW_LIMIT} in the table, all with --json)."
        ),
    ] = None,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """List batches, ordered by grow date and id.

    Example: cropflow batches --date 2027-01-15 --farm 2 --json
    """
    batch_filter = queries.BatchFilter(
        plan_id=plan,
        scheduled_date=date.date() if date else None,
        farm_id=farm,
        cultivar=cultivar,
        status=status.value if status else None,
        limit=limit if limit is not None or as_json else TABLE_ROW_LIMIT + 1,
    )
    with exit_on_error(), runtime().db.session() as session:
        rows = queries.list_batches(session, batch_filter)
    if as_json:
        print_json(rows)
        return
    columns = ["batch_id", "plan_id", "lot_id", "sequence", "scheduled_date", "farm_id", "cultivar",
               "recipe_id", "recipe_version", "recipe_source", "status"]
    if limit is None and len(rows) > TABLE_ROW_LIMIT:
        stdout.print(rows_table(rows[:TABLE_ROW_LIMIT], columns, title=f"First {TABLE_ROW_LIMIT} batches"))
        stdout.print("More batches match; narrow the filters, or use --limit or --json.")
        return
    stdout.print(rows_table(rows, columns, title=f"{len(rows)} batches"))


def status(
    since: Annotated[dt.datetime | None, typer.Option(formats=DATE_FORMATS, help="Only dates from this day on.")] = None,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Show each grow date's queue depth and its batches by status."""
    with exit_on_error():
        rows = collect_status(since.date() if since else None)
    if as_json:
        print_json(rows)
        return
    stdout.print(status_table(rows))


def collect_status(since: dt.date | None) -> list[dict[str, object]]:
    return date_status(runtime(), since)


def register(app: typer.Typer) -> None:
    app.command()(plans)
    app.command()(batches)
    app.command()(status)
