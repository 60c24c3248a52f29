"""Fixtures for distributed mode, on the PostgreSQL and RabbitMQ of this machine.

Each test gets its own PostgreSQL database and its own exchange, queue
names and task queue, and removes them afterwards. Where a service is not
running the tests are skipped, except under CI=true, where that fails.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import amqp
import psycopg
import pytest
from psycopg import sql

from cropflow.runtime import Runtime, set_runtime
from cropflow.settings import Settings
from cropflow.store.db import Database

POSTGRES_ADMIN_URL = os.environ.get("CROPFLOW_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
BROKER_URL = os.environ.get("CROPFLOW_TEST_BROKER", "amqp://guest:guest@127.0.0.1:5672//")
WORKER_READY_TIMEOUT_S = 60


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def require_service(name: str, port: int) -> None:
    if _port_open(port):
        return
    message = f"{name} is not running on 127.0.0.1:{port}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; CI must start it (see .ci/run)")
    pytest.skip(message)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    require_service("PostgreSQL", 5432)
    name = f"cropflow_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def broker_names() -> Iterator[dict[str, str]]:
    """Exchange, queue prefix and task queue names unique to one test."""
    require_service("RabbitMQ", 5672)
    tag = uuid.uuid4().hex[:10]
    names = {
        "exchange_name": f"cropflow-test-{tag}.batches",
        "queue_prefix": f"cropflow-test-{tag}-",
        "task_queue": f"cropflow-test-{tag}.lots",
    }
    yield names
    delete_test_queues(names)


def delete_test_queues(names: dict[str, str]) -> None:
    """Delete every queue and the exchange of one test (the names are unique to it)."""
    connection = amqp.Connection("127.0.0.1:5672", userid="guest", password="guest")
    connection.connect()
    try:
        for queue_name in list_queue_names(names["queue_prefix"]) + [names["task_queue"]]:
            channel = connection.channel()
            channel.queue_delete(queue_name)
            channel.close()
        channel = connection.channel()
        channel.exchange_delete(names["exchange_name"])
        channel.close()
    finally:
        connection.close()


def list_queue_names(prefix: str) -> list[str]:
    """Return the queues whose names start with ``prefix``, from rabbitmqctl."""
    result = subprocess.run(
        ["rabbitmqctl", "list_queues", "-q", "--no-table-headers", "name"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    return [line.strip() for line in result.stdout.splitlines() if line.strip().startswith(prefix)]


def queue_depths(prefix: str) -> dict[str, int]:
    """Return ready message counts of the queues whose names start with ``prefix``."""
    result = subprocess.run(
        ["rabbitmqctl", "list_queues", "-q", "--no-table-headers", "name", "messages"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    depths = {}
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].startswith(prefix):
            depths[parts[0]] = int(parts[1])
    return depths


@pytest.fixture
def distributed_settings(postgres_url, broker_names, tmp_path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=postgres_url,
        broker_url=BROKER_URL,
        relay_interval_s=1.0,
        relay_grace_s=30.0,
        poll_interval_s=0.1,
        lease_s=5.0,
        **broker_names,
    )


@pytest.fixture
def distributed_runtime(distributed_settings) -> Iterator[Runtime]:
    database = Database(distributed_settings.database_url)
    database.upgrade()
    database.dispose()
    current = Runtime(distributed_settings)
    set_runtime(current)
    yield current
    current.close()


@pytest.fixture
def distributed_env(distributed_settings) -> dict[str, str]:
    """Environment for ``cropflow`` subprocesses in this test's distributed setup."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CROPFLOW_")}
    settings = distributed_settings
    env.update(
        {
            "CROPFLOW_DATA_DIR": str(settings.data_dir),
            "CROPFLOW_DATABASE_URL": settings.database_url,
            "CROPFLOW_BROKER_URL": settings.broker_url,
            "CROPFLOW_EXCHANGE_NAME": settings.exchange_name,
            "CROPFLOW_QUEUE_PREFIX": settings.queue_prefix,
            "CROPFLOW_TASK_QUEUE": settings.task_queue,
            "CROPFLOW_RELAY_INTERVAL_S": "1",
            # Long enough that the relay leaves alone batches that their task
            # is still publishing; the broker-restart test shortens it.
            "CROPFLOW_RELAY_GRACE_S": "30",
            "CROPFLOW_POLL_INTERVAL_S": "0.1",
        }
    )
    return env


class WorkerProcess:
    """A ``cropflow worker`` subprocess in its own process group."""

    def __init__(self, env: dict[str, str], log_path: Path, concurrency: int = 1) -> None:
        self.log_path = log_path
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cropflow", "worker", f"--concurrency={concurrency}"],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout_s: float = WORKER_READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if "Worker ready" in self.log_path.read_text():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited early:\n{self.log_path.read_text()}")
            time.sleep(0.1)
        raise AssertionError(f"worker not ready after {timeout_s} s:\n{self.log_path.read_text()}")

    def kill(self) -> None:
        """SIGKILL the whole worker: its main process and its pool processes."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


@pytest.fixture
def start_worker(distributed_env, tmp_path) -> Iterator:
    workers: list[WorkerProcess] = []

    def start(concurrency: int = 1, *, wait: bool = True) -> WorkerProcess:
        worker = WorkerProcess(distributed_env, tmp_path / f"worker-{len(workers)}.log", concurrency)
        workers.append(worker)
        if wait:
            worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()
