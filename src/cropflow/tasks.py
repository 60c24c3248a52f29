"""Celery tasks: the same functions run in-process (embedded) or on workers.

Tasks are acked late and rejected when their worker is lost, so a lot whose
worker died is run again. ``create_batches`` is idempotent, so a re-run
creates no batch twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from celery import Celery

from cropflow.dispatch import outbox
from cropflow.errors import DispatchError, StoreUnavailableError
from cropflow.runtime import get_runtime
from cropflow.settings import Settings
from cropflow.store import batches

logger = logging.getLogger(__name__)

app = Celery("cropflow", set_as_current=False)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    # A task is acked after it ran, and a task whose worker died (SIGKILL,
    # out of memory) goes back to the queue instead of being dropped.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    # Each worker process has one unacked task at a time, so a killed
    # worker strands at most one lot chunk per process.
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    broker_connection_max_retries=None,
    worker_hijack_root_logger=False,
    worker_redirect_stdouts=False,
    task_publish_retry=True,
)


def configure_celery(settings: Settings) -> Celery:
    """Point the Celery app at the broker, or run tasks in-process in embedded mode."""
    if settings.is_embedded:
        app.conf.update(broker_url="memory://", task_always_eager=True, task_eager_propagates=True)
        return app
    app.conf.update(
        broker_url=settings.broker_url,
        task_always_eager=False,
        task_default_queue=settings.task_queue,
        # Publisher confirms: apply_async returns once RabbitMQ stored the task.
        broker_transport_options={"confirm_publish": True},
        task_queues=None,
    )
    return app


def enqueue_lot_chunks(settings: Settings, chunks: Sequence[Sequence[int]]) -> None:
    """Send one ``create_batches`` task per chunk of lot ids to the workers."""
    configure_celery(settings)
    with app.producer_or_acquire() as producer:
        for chunk in chunks:
            create_batches.apply_async(args=[list(chunk)], producer=producer, queue=settings.task_queue)


@app.task(
    name="cropflow.create_batches",
    # An unreachable database is retried with backoff (1 s, 2 s, 4 s ... at
    # most 5 minutes apart) instead of failing the lots for good.
    autoretry_for=(StoreUnavailableError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=None,
)
def create_batches(lot_ids: list[int]) -> int:
    """Create the batches of ``lot_ids`` and publish them; return how many were created."""
    runtime = get_runtime()
    created = batches.create_batches(runtime.db, lot_ids, queue_in_database=runtime.settings.is_embedded)
    if runtime.settings.is_embedded:
        return created

    logger.info("Created %d batches for %d lots (first lot %d)", created, len(lot_ids), min(lot_ids, default=0))
    queue = runtime.open_queue()
    try:
        outbox.relay(runtime.db, queue, lot_ids=lot_ids, chunk_size=runtime.settings.dispatch_chunk_size)
    except DispatchError as exc:
        # The batches are committed and stay in the outbox, where the
        # periodic relay finds them once the broker is back.
        logger.warning("Batches of lots %s stay in the outbox for the relay: %s", lot_ids[:5], exc)
    finally:
        queue.close()
    return created
