"""``cropflow farms``, ``relay``, ``db upgrade``, ``example-plan`` and ``demo``."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from cropflow.cli.context import exit_on_error, runtime, stdout
from cropflow.cli.progress import BarProgress
from cropflow.cli.query import MAX_ID, collect_status
from cropflow.cli.render import (
    print_ingest_report,
    print_json,
    rows_table,
    status_table,
)
from cropflow.dispatch import outbox
from cropflow.dispatch.consumer import ConsumeOptions, Consumer
from cropflow.dispatch.handlers import BatchStatusRecorder, write_summary_line
from cropflow.example_plan import write_example_plan
from cropflow.report import EXIT_USAGE
from cropflow.store import catalog
from cropflow.store.db import Database
from cropflow.store.tables import Farm
from cropflow.workbook.cells import is_time_zone

logger = logging.getLogger("cropflow.cli")

farms_app = typer.Typer(help="Register and list farms.", no_args_is_help=True)
db_app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)

# Grow dates of the status table shown by ``cropflow demo``.
DEMO_STATUS_DAYS = 7


@farms_app.command("add")
def farms_add(
    farm_id: Annotated[int, typer.Argument(min=1, max=MAX_ID, help="Farm id, as used in crop schedules.")],
    name: Annotated[str, typer.Argument(help="Farm name.")],
    timezone: Annotated[
        str | None, typer.Option(help="IANA time zone, e.g. America/Los_Angeles. Kept as stored if omitted.")
    ] = None,
) -> None:
    """Register a farm, or update its name (and time zone, if given)."""
    name = name.strip()
    if not name:
        typer.echo("The farm name is empty.", err=True)
        raise typer.Exit(EXIT_USAGE)
    if timezone is not None and not is_time_zone(timezone):
        typer.echo(f"Invalid time zone {timezone!r}: expected an IANA name such as Europe/Amsterdam.", err=True)
        raise typer.Exit(EXIT_USAGE)
    with exit_on_error(), runtime().db.write_session() as session:
        stored = session.get(Farm, farm_id)
        if timezone is None and stored is not None:
            timezone = stored.timezone
        catalog.upsert_farm(session, farm_id=farm_id, name=name, timezone=timezone)
    stdout.print(f"Farm {farm_id} is {name}" + (f" ({timezone})" if timezone else ""))


@farms_app.command("list")
def farms_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False) -> None:
    """List registered farms."""
    with exit_on_error(), runtime().db.session() as session:
        rows = [
            {"farm_id": farm.id, "name": farm.name, "timezone": farm.timezone}
            for farm in session.scalars(select(Farm).order_by(Farm.id))
        ]
    if as_json:
        print_json(rows)
    else:
        stdout.print(rows_table(rows, ["farm_id", "name", "timezone"], title=f"{len(rows)} farms"))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (automatic in embedded mode)."""
    settings = runtime().settings
    with exit_on_error():
        database = Database(settings.resolved_database_url)
        try:
            database.upgrade()
        finally:
            database.dispose()
    stdout.print("The database schema is up to date.")


def relay() -> None:
    """Publish every batch left undispatched, for example by a crash."""
    current = runtime()
    with exit_on_error():
        queue = current.open_queue()
        try:
            count = outbox.relay(current.db, queue, chunk_size=current.settings.dispatch_chunk_size)
        finally:
            queue.close()
    stdout.print(f"Dispatched {count} batches.")


def example_plan(
    out: Annotated[Path, typer.Argument(help="Where to write the workbook (.xlsx).", dir_okay=False)],
    start: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First grow date. Default: tomorrow.")
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=3660, help="Number of grow days.")] = 60,
    seed: Annotated[int, typer.Option(help="Seed of the random choices.")] = 7,
) -> None:
    """Write a realistic example crop plan: 13 cultivars, 3 farms, 10 recipes."""
    first_day = start.date() if start else dt.date.today() + dt.timedelta(days=1)
    if (dt.date.max - first_day).days < days:
        typer.echo(f"A plan of {days} days from {first_day} would end after the year 9999.", err=True)
        raise typer.Exit(EXIT_USAGE)
    summary = write_example_plan(out, start=first_day, days=days, seed=seed)
    stdout.print(
        f"Wrote {summary.path}: {summary.lots} lots, {summary.batches} batches, "
        f"{summary.recommendations} recommendations, {summary.first_date} to {summary.last_date}."
    )


def demo() -> None:
    """Write a fresh example plan starting tomorrow, ingest it and consume its first day."""
    from cropflow import ingest as ingest_service

    current = runtime()
    today = dt.date.today()
    first_day = today + dt.timedelta(days=1)
    path = current.settings.data_dir / "demo" / f"crop_plan_{first_day.isoformat()}.xlsx"
    summary = write_example_plan(path, start=first_day)
    stdout.print(f"[bold]1. Wrote[/bold] {path} ({summary.lots} lots, {summary.batches} batches)")

    with exit_on_error():
        with BarProgress() as progress:
            report = ingest_service.ingest_file(current, path, ingest_service.IngestOptions(as_of=today), progress)
        stdout.print("[bold]2. Ingested[/bold] it:")
        print_ingest_report(report, list_warnings=False)
        if report.plan_id is None:
            raise typer.Exit(report.exit_code)

        rows = collect_status(first_day)
        stdout.print(status_table(rows[:DEMO_STATUS_DAYS]))
        if len(rows) > DEMO_STATUS_DAYS:
            stdout.print(f"… and {len(rows) - DEMO_STATUS_DAYS} more grow dates (cropflow status).")

        stdout.print(f"[bold]3. Consuming[/bold] the queue of {first_day}, marking each batch done:")
        queue = current.open_queue()
        try:
            consumer = Consumer(
                queue,
                options=ConsumeOptions(until_empty=True, prefetch=50, poll_interval_s=0.2),
                output=write_summary_line,
                recorder=BatchStatusRecorder(current.db),
                mark_done=True,
            )
            stats = consumer.consume_day(first_day)
        finally:
            queue.close()
    stdout.print(
        f"Consumed {stats.handled} batches of {first_day} ({stats.skipped} were done already). "
        f"Next: cropflow status, cropflow consume --from {first_day} --json"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(farms_app, name="farms")
    app.add_typer(db_app, name="db")
    app.command()(relay)
    app.command("example-plan")(example_plan)
    app.command()(demo)
