"""Celery tasks: the same functions run in-process (embedded) or on workers.

Tasks are acked late and rejected when their worker is lost, so a lot whose
worker died is run again; ``create_batches`` is idempotent, so a re-run
creates no batch twice.
"""

from __future__ import annotations

import logging

from celery import Celery

from cropflow.dispatch import outbox
from cropflow.runtime import get_runtime
from cropflow.settings import Settings
from cropflow.store import batches

logger = logging.getLogger(__name__)

app = Celery("cropflow")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


def configure_celery(settings: Settings) -> Celery:
    """Point the Celery app at the broker, or run tasks in-process in embedded mode."""
    if settings.is_embedded:
        app.conf.update(broker_url="memory://", task_always_eager=True, task_eager_propagates=True)
    else:
        app.conf.update(
            broker_url=settings.broker_url,
            task_always_eager=False,
            broker_transport_options={"confirm_publish": True},
        )
    return app


@app.task(name="cropflow.create_batches")
def create_batches(lot_ids: list[int]) -> int:
    """Create the batches of ``lot_ids`` and publish them; return how many were created."""
    runtime = get_runtime()
    created = batches.create_batches(runtime.db, lot_ids)
    if not runtime.settings.is_embedded:
        queue = runtime.open_queue()
        try:
            outbox.relay(runtime.db, queue, lot_ids=lot_ids, chunk_size=runtime.settings.dispatch_chunk_size)
        finally:
            queue.close()
    return created
