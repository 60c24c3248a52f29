"""The raw I/O floor: the same reads, row inserts and publishes without cropflow."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
import uuid
from pathlib import Path

import amqp
import psycopg
from python_calamine import CalamineWorkbook

# A batch row as cropflow stores it, less the id.
BATCH_COLUMNS = (
    "plan_id, lot_id, sequence, farm_id, cultivar_id, scheduled_date, recipe_version_id, recipe_source, "
    "status, created_at, delivery_count, failure_count"
)


def batch_tuples(count: int) -> list[tuple[object, ...]]:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    day = dt.date(2030, 1, 7)
    return [
        (1, index // 7 + 1, index % 7 + 1, 1 + index % 8, 1 + index % 40, day, 1 + index % 30, "default",
         "scheduled", now, 0, 0)
        for index in range(count)
    ]


def read_floor_s(path: Path) -> float:
    """Time reading every cell of every sheet with python-calamine alone."""
    start = time.perf_counter()
    workbook = CalamineWorkbook.from_path(str(path))
    cells = 0
    for name in workbook.sheet_names:
        for row in workbook.get_sheet_by_name(name).iter_rows():
            cells += len(row)
    return time.perf_counter() - start


def sqlite_insert_floor_s(directory: Path, count: int) -> float:
    """Time ``executemany`` of ``count`` batch rows into SQLite in one transaction."""
    rows = batch_tuples(count)
    database = directory / f"floor-{uuid.uuid4().hex}.db"
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(f"CREATE TABLE batches (id INTEGER PRIMARY KEY, {BATCH_COLUMNS})")
    placeholders = ", ".join("?" * 12)
    start = time.perf_counter()
    connection.execute("BEGIN")
    connection.executemany(f"INSERT INTO batches ({BATCH_COLUMNS}) VALUES ({placeholders})", rows)
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - start
    connection.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    return elapsed


def sqlite_update_floor_s(directory: Path, count: int) -> float:
    """Time one UPDATE that marks ``count`` rows dispatched, the embedded queue's publish."""
    rows = batch_tuples(count)
    database = directory / f"floor-{uuid.uuid4().hex}.db"
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"CREATE TABLE batches (id INTEGER PRIMARY KEY, {BATCH_COLUMNS}, dispatched_at TEXT)")
    connection.execute("BEGIN")
    connection.executemany(f"INSERT INTO batches ({BATCH_COLUMNS}) VALUES ({', '.join('?' * 12)})", rows)
    connection.execute("COMMIT")
    start = time.perf_counter()
    connection.execute("UPDATE batches SET dispatched_at = datetime('now') WHERE dispatched_at IS NULL")
    elapsed = time.perf_counter() - start
    connection.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    return elapsed


def postgres_copy_floor_s(database_url: str, count: int) -> float:
    """Time ``COPY`` of ``count`` batch rows into a PostgreSQL table in one transaction."""
    rows = batch_tuples(count)
    table = f"floor_{uuid.uuid4().hex[:10]}"
    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as connection:
        connection.execute(
            f"CREATE TABLE {table} (id BIGSERIAL PRIMARY KEY, plan_id int, lot_id int, sequence int, "
            "farm_id int, cultivar_id int, scheduled_date date, recipe_version_id int, recipe_source text, "
            "status text, created_at timestamptz, delivery_count int, failure_count int)"
        )
        connection.commit()
        start = time.perf_counter()
        with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({BATCH_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        connection.commit()
        elapsed = time.perf_counter() - start
        connection.execute(f"DROP TABLE {table}")
        connection.commit()
    return elapsed


def amqp_publish_floor_s(message_bytes: int, count: int, *, window: int = 2_000) -> float:
    """Time publishing ``count`` persistent messages with pipelined publisher confirms."""
    queue = f"cropflow-floor-{uuid.uuid4().hex[:10]}"
    body = json.dumps({"pad": "x" * max(0, message_bytes - 12)}).encode()
    connection = amqp.Connection("127.0.0.1:5672", userid="guest", password="guest")
    connection.connect()
    channel = connection.channel()
    channel.queue_declare(queue, durable=True, auto_delete=False)
    channel.confirm_select()
    outstanding: set[int] = set()

    def on_ack(delivery_tag: int, multiple: bool) -> None:
        if multiple:
            outstanding.difference_update({tag for tag in outstanding if tag <= delivery_tag})
        else:
            outstanding.discard(delivery_tag)

    channel.events["basic_ack"].add(on_ack)
    start = time.perf_counter()
    tag = 0
    for first in range(0, count, window):
        for _ in range(min(window, count - first)):
            channel.basic_publish(amqp.Message(body, delivery_mode=2, content_type="application/json"),
                                  exchange="", routing_key=queue)
            tag += 1
            outstanding.add(tag)
        while outstanding:
            connection.drain_events(timeout=30)
    elapsed = time.perf_counter() - start
    channel.queue_delete(queue)
    channel.close()
    connection.close()
    return elapsed
