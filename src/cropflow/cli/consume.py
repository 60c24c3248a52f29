"""``cropflow consume``."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from typing import Annotated

import typer

from cropflow.cli.context import exit_on_error, runtime
from cropflow.dispatch.consumer import ConsumeOptions, Consumer
from cropflow.dispatch.handlers import (
    BatchStatusRecorder,
    ExecHandler,
    HandlerUnavailable,
    write_json_line,
    write_summary_line,
)
from cropflow.report import EXIT_REJECTED, EXIT_USAGE

logger = logging.getLogger("cropflow.cli")

# Largest --prefetch: messages received in one statement or basic.get loop.
MAX_PREFETCH = 10_000


def consume(
    date: Annotated[dt.datetime | None, typer.Argument(formats=["%Y-%m-%d"], help="The grow date to consume.")] = None,
    from_date: Annotated[
        dt.datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="Consume this date and every later one, in date order."),
    ] = None,
    until_empty: Annotated[bool, typer.Option(help="Exit once the queue is empty instead of waiting.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print each message as one JSON line.")] = False,
    exec_command: Annotated[
        str | None,
        typer.Option("--exec", help="Run this shell command with the message on stdin; ack only if it exits 0."),
    ] = None,
    exec_timeout_s: Annotated[
        float | None,
        typer.Option(
            "--exec-timeout",
            min=0.1,
            help="Seconds before a --exec command is stopped and counted as failed. "
            "Default in embedded mode: CROPFLOW_LEASE_S, so that no other consumer receives the batch meanwhile.",
        ),
    ] = None,
    mark_done: Annotated[bool, typer.Option(help="Record each batch as started, then done, in the database.")] = False,
    max_messages: Annotated[
        int | None, typer.Option("--max", min=1, max=2**63 - 1, help="Stop after receiving this many messages.")
    ] = None,
    prefetch: Annotated[int, typer.Option(min=1, max=MAX_PREFETCH, help="Messages received at once.")] = 1,
) -> None:
    """Receive batch messages of one grow date, or of every date in order.

    Each message is acked only after its handlers succeed. A batch already
    done is acked and skipped. Exit status 1 if any message failed, 2 if the
    --exec command cannot run. Examples:

      cropflow consume 2027-01-15 --until-empty --json

      cropflow consume --from 2027-01-15 --exec ./start-batch.sh --mark-done
    """
    if (date is None) == (from_date is None):
        typer.echo("Give a DATE or --from DATE, not both and not neither.", err=True)
        raise typer.Exit(EXIT_USAGE)

    current = runtime()
    stop_event = threading.Event()
    _stop_on_signals(stop_event)
    with exit_on_error():
        queue = current.open_queue()
        consumer = Consumer(
            queue,
            options=ConsumeOptions(
                until_empty=until_empty,
                prefetch=prefetch,
                poll_interval_s=current.settings.poll_interval_s,
                max_messages=max_messages,
            ),
            output=write_json_line if as_json else write_summary_line,
            command=ExecHandler(exec_command, timeout_s=_exec_timeout_s(exec_timeout_s)) if exec_command else None,
            recorder=BatchStatusRecorder(current.db),
            mark_done=mark_done,
            stop_event=stop_event,
        )
        try:
            if date is not None:
                stats = consumer.consume_day(date.date())
            else:
                assert from_date is not None
                stats = consumer.consume_from(from_date.date())
        except HandlerUnavailable as exc:
            logger.error("Stopped: %s. The message was returned to the queue.", exc)
            raise typer.Exit(EXIT_USAGE) from exc
        finally:
            queue.close()

    logger.info(
        "Consumer stopped: %d handled, %d skipped as done, %d failed, %d dead-lettered",
        stats.handled, stats.skipped, stats.failed, stats.dead_lettered,
    )
    if stats.failed:
        raise typer.Exit(EXIT_REJECTED)


def _exec_timeout_s(option_s: float | None) -> float | None:
    settings = runtime().settings
    if option_s is not None:
        return option_s
    return settings.lease_s if settings.is_embedded else None


def _stop_on_signals(stop_event: threading.Event) -> None:
    def request_stop(signum: int, _frame: object) -> None:
        logger.info("Received %s; stopping after the current message", signal.Signals(signum).name)
        stop_event.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)


def register(app: typer.Typer) -> None:
    app.command()(consume)
