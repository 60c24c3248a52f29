"""``cropflow worker`` and ``cropflow queues`` (distributed mode)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from cropflow.cli.context import exit_on_error, runtime, stdout
from cropflow.cli.render import print_json
from cropflow.report import EXIT_USAGE

queues_app = typer.Typer(help="Manage the RabbitMQ date queues.", no_args_is_help=True)


def _require_broker() -> None:
    if runtime().settings.is_embedded:
        typer.echo("This command needs distributed mode: set CROPFLOW_BROKER_URL (amqp://...).", err=True)
        raise typer.Exit(EXIT_USAGE)


def worker(
    concurrency: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 2,
    relay: Annotated[bool, typer.Option(help="Run the periodic outbox relay in this worker.")] = True,
) -> None:
    """Run a Celery worker that creates and publishes batches of ingested plans.

    Example: CROPFLOW_BROKER_URL=amqp://guest:guest@127.0.0.1:5672//
    CROPFLOW_DATABASE_URL=postgresql+psycopg://127.0.0.1/cropflow cropflow worker --concurrency 2
    """
    _require_broker()
    from cropflow.worker import run_worker

    with exit_on_error():
        runtime().db.check_connection()
        run_worker(runtime().settings, concurrency=concurrency, relay=relay)


@queues_app.command("prune")
def queues_prune(
    before: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="Delete queues of dates before this day.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Delete the empty queues of past grow dates; a queue holding messages is kept."""
    _require_broker()
    from cropflow.dispatch.amqp import AmqpQueue

    deleted, kept = [], []
    with exit_on_error():
        queue = runtime().open_queue()
        assert isinstance(queue, AmqpQueue)
        try:
            for day in queue.dates_published(before=before.date()):
                name = queue.queue_name(day)
                (deleted if queue.delete_if_empty(name) else kept).append(name)
        finally:
            queue.close()
    if as_json:
        print_json({"deleted": deleted, "kept": kept})
        return
    stdout.print(f"Deleted {len(deleted)} empty queues; kept {len(kept)} that hold messages or do not exist.")
    for name in kept:
        stdout.print(f"  kept {name}")


def register(app: typer.Typer) -> None:
    app.command()(worker)
    app.add_typer(queues_app, name="queues")
