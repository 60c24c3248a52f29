"""Per-date status: batch counts from the database, queue depth from the date queues."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cropflow.runtime import Runtime
from cropflow.store import queries


def date_status(runtime: Runtime, since: dt.date | None = None) -> list[dict[str, Any]]:
    """Return each grow date's batch counts by status and its queue depth.

    In distributed mode the depth comes from the date queues, because the
    broker, not the database, contains the messages.
    """
    with runtime.db.session() as session:
        rows = queries.date_status(session, since=since)
    if runtime.settings.is_embedded:
        return rows

    queue = runtime.open_queue()
    try:
        for row in rows:
            row["queue_depth"] = queue.depth(dt.date.fromisoformat(str(row["date"])))
    finally:
        queue.close()
    return rows
