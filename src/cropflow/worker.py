"""The Celery worker of distributed mode, with a periodic outbox relay."""

from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta

from celery import signals
from sqlalchemy import text

from cropflow.dispatch import outbox
from cropflow.errors import CropflowError
from cropflow.runtime import get_runtime
from cropflow.settings import Settings
from cropflow.store.db import utc_now
from cropflow.tasks import configure_celery

logger = logging.getLogger(__name__)

# PostgreSQL advisory lock held by the one relay that runs at a time
# ("relay" in hex); relays of other workers skip their round.
RELAY_LOCK_KEY = 0x72656C6179


class RelayLoop:
    """Publishes batches left in the outbox, every ``relay_interval_s`` seconds.

    Only batches older than ``relay_grace_s`` are taken: younger ones are
    being published by the task that created them.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cropflow-relay", daemon=True)

    def start(self) -> None:
        logger.info("Starting the outbox relay, every %.0f s", self.settings.relay_interval_s)
        self._thread.start()

    def stop(self) -> None:
        logger.info("Stopping the outbox relay...")
        self._stop.set()
        self._thread.join(timeout=self.settings.relay_interval_s + 10)
        logger.info("Outbox relay stopped.")

    def _run(self) -> None:
        while not self._stop.wait(self.settings.relay_interval_s):
            try:
                self.run_once()
            except CropflowError as exc:
                logger.warning("Relay round failed, retrying in %.0f s: %s", self.settings.relay_interval_s, exc)
            except Exception:
                logger.exception("Relay round failed unexpectedly; retrying in %.0f s", self.settings.relay_interval_s)

    def run_once(self) -> int:
        runtime = get_runtime()
        db = runtime.db
        created_before = utc_now() - timedelta(seconds=self.settings.relay_grace_s)
        with db.engine.connect() as lock_connection:
            if not db.is_sqlite:
                locked = lock_connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": RELAY_LOCK_KEY})
                if not locked.scalar():
                    logger.debug("Another worker's relay is running; skipping this round")
                    return 0
            try:
                queue = runtime.open_queue()
                try:
                    count = outbox.relay(
                        db, queue, created_before=created_before, chunk_size=self.settings.dispatch_chunk_size
                    )
                finally:
                    queue.close()
            finally:
                if not db.is_sqlite:
                    lock_connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": RELAY_LOCK_KEY})
                    lock_connection.commit()
        if count:
            logger.warning("Relay published %d batches left undispatched (by a crash or a broker outage)", count)
        return count


def run_worker(settings: Settings, *, concurrency: int, relay: bool = True) -> None:
    """Run a Celery worker for the lot tasks until it is stopped."""
    app = configure_celery(settings)
    relay_loop = RelayLoop(settings) if relay else None

    @signals.worker_process_init.connect(weak=False)
    def _reset_after_fork(**_kwargs: object) -> None:
        # A forked pool process must not share the parent's database sockets.
        get_runtime().close()

    @signals.worker_ready.connect(weak=False)
    def _on_ready(**_kwargs: object) -> None:
        logger.info("Worker ready: concurrency %d, task queue %s", concurrency, settings.task_queue)
        if relay_loop is not None:
            relay_loop.start()

    @signals.worker_shutting_down.connect(weak=False)
    def _on_shutdown(**_kwargs: object) -> None:
        logger.info("Worker stopping...")
        if relay_loop is not None:
            relay_loop.stop()

    # Task received, succeeded, retried and failed lines, and broker
    # connection retries, come from Celery's own loggers.
    logging.getLogger("celery").setLevel(logging.INFO)
    logger.info("Starting worker on %s", _sanitize(settings.broker_url))
    app.worker_main(
        [
            "worker",
            f"--concurrency={concurrency}",
            "--loglevel=INFO",
            f"--queues={settings.task_queue}",
            f"--hostname=cropflow-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
    )
    logger.info("Worker stopped.")


def _sanitize(url: str) -> str:
    from kombu.utils.url import maybe_sanitize_url

    return str(maybe_sanitize_url(url))
