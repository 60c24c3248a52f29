"""Settings, loaded once at startup from ``CROPFLOW_*`` variables and CLI options."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024
# Maximum of every duration setting: 30 days. Longer ones overflow date arithmetic.
MAX_DURATION_S = 30 * 24 * 3600


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("cropflow", appauthor=False))


class Settings(BaseSettings):
    """Every knob of cropflow, read from the environment with the prefix ``CROPFLOW_``."""

    model_config = SettingsConfigDict(env_prefix="CROPFLOW_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    # Empty means the embedded SQLite file ``cropflow.db`` in ``data_dir``.
    database_url: str = ""
    # Empty means embedded mode: lot tasks run in-process and the date
    # queues live in the database.
    broker_url: str = ""

    log_format: Literal["text", "json"] = "text"

    # Workbook limits, checked before a file is parsed in full.
    max_file_bytes: int = Field(default=50 * MIB, ge=1)
    max_uncompressed_bytes: int = Field(default=200 * MIB, ge=1)
    # A zip member that expands more than this many times its compressed size
    # is treated as a zip bomb. Spreadsheet XML compresses about 5-30 times.
    max_compression_ratio: float = Field(default=200.0, gt=1, allow_inf_nan=False)
    max_rows_per_sheet: int = Field(default=1_000_000, ge=1)
    # Cells in the rectangle from A1 to a sheet's last used cell. The reader
    # allocates them all, so a stray far-away cell must not reach it.
    max_cells_per_sheet: int = Field(default=20_000_000, ge=1)
    max_crops_per_lot: int = Field(default=10_000, ge=1)

    # Lots handed to one task call; a chunk is stored in one transaction.
    lots_per_task: int = Field(default=1000, ge=1)
    # Batches published or marked per outbox round.
    dispatch_chunk_size: int = Field(default=5_000, ge=1)

    # Embedded queue: how long a received batch stays invisible to other
    # consumers before it is delivered again unless acked.
    lease_s: float = Field(default=300.0, gt=0, le=MAX_DURATION_S, allow_inf_nan=False)
    # Deliveries that failed before a batch goes to the dead-letter queue.
    max_deliveries: int = Field(default=5, ge=1)
    # How often an idle consumer looks for new messages.
    poll_interval_s: float = Field(default=1.0, gt=0, le=3600, allow_inf_nan=False)

    # RabbitMQ date queues.
    queue_type: Literal["classic", "quorum"] = "classic"
    exchange_name: str = "cropflow.batches"
    queue_prefix: str = "batch-queue-"
    confirm_timeout_s: float = Field(default=30.0, gt=0, le=MAX_DURATION_S, allow_inf_nan=False)

    # Celery queue of the lot tasks.
    task_queue: str = "cropflow.lots"
    # Periodic relay in the worker pool: how often it runs, and how old an
    # undispatched batch must be before the relay publishes it (younger ones
    # are still being published by the task that created them).
    relay_interval_s: float = Field(default=30.0, gt=0, le=MAX_DURATION_S, allow_inf_nan=False)
    relay_grace_s: float = Field(default=60.0, ge=0, le=MAX_DURATION_S, allow_inf_nan=False)
    # How long ``ingest --wait`` follows a plan before it gives up.
    wait_timeout_s: float = Field(default=3600.0, gt=0, le=MAX_DURATION_S, allow_inf_nan=False)

    @property
    def is_embedded(self) -> bool:
        return not self.broker_url

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'cropflow.db'}"
