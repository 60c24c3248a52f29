"""Handlers that a consumer runs on each batch message before it acks it."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import TextIO

from sqlalchemy import select, update

from cropflow.dispatch.queue import Delivery
from cropflow.store.db import Database, utc_now
from cropflow.store.tables import Batch, BatchStatus

logger = logging.getLogger(__name__)

# Characters of a failed command's stderr kept as the failure reason.
MAX_REASON_CHARS = 500


# Exit statuses of /bin/sh when the command is missing or not executable.
SHELL_COMMAND_NOT_FOUND = 127
SHELL_COMMAND_NOT_EXECUTABLE = 126


class HandlerFailed(Exception):
    """Raised by a handler when a batch was not handled; the message is retried."""


class HandlerUnavailable(Exception):
    """Raised when a handler cannot run at all (its command is missing).

    The message is returned to the queue uncounted and the consumer stops:
    failing every message of a day for a typo in ``--exec`` helps no one.
    """


def write_json_line(delivery: Delivery, stream: TextIO = sys.stdout) -> None:
    stream.write(json.dumps(delivery.message.payload, separators=(",", ":")) + "\n")
    stream.flush()


def write_summary_line(delivery: Delivery, stream: TextIO = sys.stdout) -> None:
    payload = delivery.message.payload
    recipe = payload["recipe"]
    stream.write(
        f"batch {payload['batch_id']}  {payload['scheduled_date']}  farm {payload['farm']['name']}  "
        f"{payload['cultivar']}  {payload['sequence']}/{payload['lot_size']}  "
        f"recipe {recipe['id']} v{recipe['version']} ({recipe['source']})\n"
    )
    stream.flush()


class ExecHandler:
    """Runs a shell command with the message on stdin; exit status 0 means handled."""

    def __init__(self, command: str, *, timeout_s: float | None = None) -> None:
        self.command = command
        self.timeout_s = timeout_s

    def __call__(self, delivery: Delivery) -> None:
        try:
            completed = subprocess.run(
                self.command,
                shell=True,
                input=delivery.message.encode() + b"\n",
                stdout=sys.stderr.buffer,
                stderr=subprocess.PIPE,
                timeout=self.timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise HandlerFailed(f"command timed out after {self.timeout_s} s") from exc
        except OSError as exc:
            raise HandlerFailed(f"command could not start: {exc}") from exc

        stderr = completed.stderr.decode(errors="replace").strip()[-MAX_REASON_CHARS:]
        if completed.returncode in (SHELL_COMMAND_NOT_FOUND, SHELL_COMMAND_NOT_EXECUTABLE):
            raise HandlerUnavailable(
                f"the --exec command cannot run (exit status {completed.returncode}): {stderr or self.command}"
            )
        if completed.returncode != 0:
            detail = f": {stderr}" if stderr else ""
            raise HandlerFailed(f"command exited with status {completed.returncode}{detail}")


class BatchStatusRecorder:
    """Records the lifecycle of handled batches in the database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def is_done(self, batch_id: int) -> bool:
        with self.db.session() as session:
            return session.scalar(select(Batch.status).where(Batch.id == batch_id)) == BatchStatus.DONE

    def mark_started(self, batch_id: int) -> None:
        self._set_status(batch_id, BatchStatus.STARTED, unless=(BatchStatus.DONE, BatchStatus.STARTED))

    def mark_done(self, batch_id: int) -> bool:
        """Mark the batch done; False if it was done already."""
        return self._set_status(batch_id, BatchStatus.DONE, unless=(BatchStatus.DONE,))

    def _set_status(self, batch_id: int, status: BatchStatus, *, unless: tuple[BatchStatus, ...]) -> bool:
        now = utc_now()
        values: dict[str, object] = {"status": status.value}
        if status == BatchStatus.STARTED:
            values["started_at"] = now
        else:
            values["finished_at"] = now
        with self.db.write_session() as session:
            result = session.execute(
                update(Batch)
                .where(Batch.id == batch_id, Batch.status.not_in([s.value for s in unless]))
                .values(**values)
            )
        changed = result.rowcount > 0
        if changed:
            logger.debug("Batch %d is %s", batch_id, status.value)
        return changed
