"""The objects a process builds once from its settings: database and queue."""

from __future__ import annotations

import logging
import threading

from cropflow.dispatch.embedded import EmbeddedQueue
from cropflow.dispatch.queue import DateQueue
from cropflow.errors import ConfigError, StoreError
from cropflow.settings import Settings
from cropflow.store.db import Database, redact_url

logger = logging.getLogger(__name__)

AMQP_SCHEMES = ("amqp", "amqps", "pyamqp")


class Runtime:
    """Settings, the database and a factory of date queues, for one process.

    In embedded mode the database is migrated the first time it is opened.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._db: Database | None = None
        self._lock = threading.Lock()

    @property
    def db(self) -> Database:
        with self._lock:
            if self._db is None:
                try:
                    self._db = Database(self.settings.resolved_database_url)
                except OSError as exc:
                    raise ConfigError(
                        f"The data directory {self.settings.data_dir} cannot hold the database: {exc.strerror or exc}. "
                        "Set CROPFLOW_DATA_DIR to a writable folder."
                    ) from exc
                if self.settings.is_embedded or self._db.is_sqlite:
                    self._db.upgrade()
                elif not self._db.is_at_head():
                    raise StoreError(
                        f"The database {redact_url(self._db.url)} is not at the latest schema; "
                        "run cropflow db upgrade first."
                    )
            return self._db

    def check_broker_url(self) -> None:
        """Raise ConfigError unless the broker URL is empty or names an AMQP broker."""
        url = self.settings.broker_url
        if url and url.split("://", 1)[0] not in AMQP_SCHEMES:
            raise ConfigError(
                f"CROPFLOW_BROKER_URL {redact_url(url)} is not an AMQP URL; expected amqp://USER:PASSWORD@HOST:5672//"
            )

    def open_queue(self) -> DateQueue:
        """Return a new date queue for the calling thread."""
        self.check_broker_url()
        if self.settings.is_embedded:
            return EmbeddedQueue(
                self.db, lease_s=self.settings.lease_s, max_deliveries=self.settings.max_deliveries
            )
        from cropflow.dispatch.amqp import AmqpQueue

        return AmqpQueue(self.settings, self.db)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.dispose()
                self._db = None


_current: Runtime | None = None


def set_runtime(runtime: Runtime) -> None:
    global _current
    _current = runtime


def get_runtime() -> Runtime:
    """Return this process's runtime, built from the environment on first use."""
    global _current
    if _current is None:
        _current = Runtime(Settings())
    return _current
