"""``cropflow dead-letters``: list and requeue batches whose messages kept failing."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from sqlalchemy import and_, select, update

from cropflow.cli.context import exit_on_error, runtime, stdout
from cropflow.cli.render import print_json, rows_table
from cropflow.dispatch import outbox
from cropflow.store.tables import Batch, BatchStatus

dead_letters_app = typer.Typer(help="List and requeue dead-lettered batches.", no_args_is_help=True)


def _dead_lettered(day: dt.date | None):  # type: ignore[no-untyped-def]
    condition = Batch.dead_lettered_at.is_not(None)
    return and_(condition, Batch.scheduled_date == day) if day is not None else condition


@dead_letters_app.command("list")
def dead_letters_list(
    date: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Only this grow date.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """List dead-lettered batches with the reason of their last failure."""
    day = date.date() if date else None
    with exit_on_error(), runtime().db.session() as session:
        rows = [
            {"batch_id": batch_id, "scheduled_date": scheduled.isoformat(), "failures": failures, "reason": reason}
            for batch_id, scheduled, failures, reason in session.execute(
                select(Batch.id, Batch.scheduled_date, Batch.failure_count, Batch.last_error)
                .where(_dead_lettered(day))
                .order_by(Batch.scheduled_date, Batch.id)
            )
        ]
    if as_json:
        print_json(rows)
    else:
        stdout.print(rows_table(rows, ["batch_id", "scheduled_date", "failures", "reason"], title=f"{len(rows)} dead-lettered batches"))


@dead_letters_app.command("requeue")
def dead_letters_requeue(
    date: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Only this grow date.")] = None,
) -> None:
    """Put dead-lettered batches back in their date queues, with their failure count reset.

    Fix what made them fail first. In distributed mode the copies in the
    dead-letter queue stay there; delete or purge them when done.
    """
    day = date.date() if date else None
    current = runtime()
    with exit_on_error():
        with current.db.write_session() as session:
            result = session.execute(
                update(Batch)
                .where(_dead_lettered(day))
                .values(
                    dead_lettered_at=None, failure_count=0, last_error=None, dispatched_at=None,
                    acked_at=None, lease_owner=None, lease_expires_at=None, finished_at=None,
                    status=BatchStatus.SCHEDULED.value,
                )
            )
        queue = current.open_queue()
        try:
            outbox.relay(current.db, queue, chunk_size=current.settings.dispatch_chunk_size)
        finally:
            queue.close()
    stdout.print(f"Requeued {result.rowcount} dead-lettered batches.")


def register(app: typer.Typer) -> None:
    app.add_typer(dead_letters_app, name="dead-letters")
