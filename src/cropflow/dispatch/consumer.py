"""The consumer: drain one grow date's queue, or every date in order."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from cropflow.dispatch.handlers import BatchStatusRecorder, ExecHandler, HandlerFailed, HandlerUnavailable
from cropflow.dispatch.queue import DateQueue, Delivery

logger = logging.getLogger(__name__)

OutputWriter = Callable[[Delivery], None]


@dataclass(frozen=True, slots=True)
class ConsumeOptions:
    until_empty: bool = False
    # Messages claimed at once; all of them wait while the first is handled.
    prefetch: int = 1
    poll_interval_s: float = 1.0
    # Stop after this many messages were received, whatever their outcome
    # (None: no limit).
    max_messages: int | None = None


@dataclass(slots=True)
class ConsumeStats:
    received: int = 0
    handled: int = 0
    skipped: int = 0
    failed: int = 0
    dead_lettered: int = 0


class Consumer:
    """Hands each message to the handlers and acks it only if all succeeded.

    A batch already done is acked and skipped, so a redelivered message has no
    second effect when ``recorder`` is given.
    """

    def __init__(
        self,
        queue: DateQueue,
        *,
        options: ConsumeOptions,
        output: OutputWriter | None = None,
        command: ExecHandler | None = None,
        recorder: BatchStatusRecorder | None = None,
        mark_done: bool = False,
        stop_event: threading.Event | None = None,
    ) -> None:
        self.queue = queue
        self.options = options
        self.output = output
        self.command = command
        self.recorder = recorder
        self.mark_done = mark_done
        self.stop_event = stop_event or threading.Event()
        self.stats = ConsumeStats()

    def consume_day(self, day: dt.date) -> ConsumeStats:
        """Handle ``day``'s messages; with ``until_empty``, return once it has none."""
        logger.info("Consuming the queue of %s", day)
        self._drain(day, stop_when_empty=self.options.until_empty)
        return self.stats

    def consume_from(self, first_day: dt.date) -> ConsumeStats:
        """Handle every date from ``first_day`` on, finishing each before the next.

        A date is finished when its queue contains no message, counting
        messages that other consumers received and have not acked, because
        they may come back.
        """
        logger.info("Consuming the queues of %s and later, one date at a time", first_day)
        while not self._should_stop():
            days = self.queue.days_with_messages(first_day)
            if not days:
                if self.options.until_empty:
                    break
                self.stop_event.wait(self.options.poll_interval_s)
                continue
            logger.info("Starting the queue of %s (%d messages)", days[0], self.queue.depth(days[0]))
            self._drain(days[0], stop_when_empty=True)
        return self.stats

    def _drain(self, day: dt.date, *, stop_when_empty: bool) -> None:
        while not self._should_stop():
            deliveries = self.queue.receive(day, self.options.prefetch)
            if not deliveries:
                if stop_when_empty and self.queue.depth(day) == 0:
                    logger.info("The queue of %s is empty", day)
                    return
                self.stop_event.wait(self.options.poll_interval_s)
                continue
            for index, delivery in enumerate(deliveries):
                if self._should_stop():
                    self._release(deliveries[index:])
                    return
                try:
                    self._handle(delivery)
                except HandlerUnavailable:
                    self._release(deliveries[index:])
                    raise

    def _release(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            self.queue.release(delivery)
        if deliveries:
            logger.info("Returned %d received messages to the queue unhandled", len(deliveries))

    def _handle(self, delivery: Delivery) -> None:
        batch_id = delivery.batch_id
        self.stats.received += 1
        if delivery.delivery_count > 1:
            logger.info("Batch %d delivered again (delivery %d)", batch_id, delivery.delivery_count)

        if self.recorder is not None and self.recorder.is_done(batch_id):
            logger.info("Batch %d is done already; acked and skipped", batch_id)
            self.queue.ack(delivery)
            self.stats.skipped += 1
            return

        try:
            self._run_handlers(delivery)
        except HandlerFailed as exc:
            self.stats.failed += 1
            if self.queue.reject(delivery, str(exc)):
                self.stats.dead_lettered += 1
            return

        if self.queue.ack(delivery):
            self.stats.handled += 1

    def _run_handlers(self, delivery: Delivery) -> None:
        if self.mark_done and self.recorder is not None:
            self.recorder.mark_started(delivery.batch_id)
        if self.command is not None:
            self.command(delivery)
        if self.mark_done and self.recorder is not None:
            self.recorder.mark_done(delivery.batch_id)
        if self.output is not None:
            self.output(delivery)

    def _should_stop(self) -> bool:
        if self.stop_event.is_set():
            return True
        limit = self.options.max_messages
        return limit is not None and self.stats.received >= limit
