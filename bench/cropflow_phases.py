"""Run cropflow's phases on one plan and time each, in a process of its own."""

from __future__ import annotations

import datetime as dt
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from cropflow import ingest
from cropflow.dispatch.consumer import ConsumeOptions, Consumer
from cropflow.progress import Progress
from cropflow.runtime import Runtime, set_runtime
from cropflow.settings import Settings
from cropflow.store.plans import existing_plan, store_plan
from cropflow.store.tables import Batch
from cropflow.workbook import WorkbookLimits, file_sha256, read_plan

AS_OF = dt.date(2030, 1, 1)
WORKER_READY_TIMEOUT_S = 60
PROGRESS_POLL_INTERVAL_S = 0.25


def peak_rss_bytes(pid: int | None = None) -> int:
    """Return the peak resident set size of a process (this one by default)."""
    if pid is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def child_pids(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(entry.name))
    return children


def run_phases(settings: Settings, plan_path: Path, workers: int, result: dict[str, Any]) -> None:
    """Time read, store, batches, dispatch, first-day consume and a duplicate re-ingest."""
    runtime = Runtime(settings)
    set_runtime(runtime)
    db = runtime.db
    timings: dict[str, float] = {}
    worker_processes = _start_workers(settings, workers) if not settings.is_embedded else []
    try:
        start = time.perf_counter()
        sha256 = file_sha256(plan_path)
        timings["hash"] = time.perf_counter() - start

        start = time.perf_counter()
        parsed = read_plan(plan_path, as_of=AS_OF, limits=WorkbookLimits.from_settings(settings), sha256=sha256)
        timings["read_validate"] = time.perf_counter() - start
        if parsed.errors:
            raise SystemExit(f"the synthetic plan has errors: {parsed.errors[:3]}")

        start = time.perf_counter()
        stored = store_plan(db, parsed)
        timings["store"] = time.perf_counter() - start
        expected = parsed.crop_total
        del parsed

        if settings.is_embedded:
            start = time.perf_counter()
            ingest.create_plan_batches(runtime, stored.plan_id, ingest.lots_without_batches(runtime, stored.plan_id),
                                       Progress())
            timings["batches"] = time.perf_counter() - start
            start = time.perf_counter()
            ingest.dispatch_plan(runtime, stored.plan_id, Progress())
            timings["dispatch"] = time.perf_counter() - start
        else:
            timings.update(_distributed_batches_and_dispatch(runtime, stored.plan_id, expected))

        first_day = _first_day(runtime, stored.plan_id)
        start = time.perf_counter()
        queue = runtime.open_queue()
        consumer = Consumer(queue, options=ConsumeOptions(until_empty=True, prefetch=200, poll_interval_s=0.05))
        stats = consumer.consume_day(first_day)
        queue.close()
        timings["consume_first_day"] = time.perf_counter() - start
        result["first_day_batches"] = stats.handled

        start = time.perf_counter()
        report = ingest.ingest_file(runtime, plan_path, ingest.IngestOptions(as_of=AS_OF))
        timings["duplicate_reingest"] = time.perf_counter() - start
        assert report.status == "duplicate", report.status

        with db.session() as session:
            result["batches_stored"] = session.scalar(select(func.count()).select_from(Batch))
        result["batches_expected"] = expected
        result["plan_id"] = existing_plan(db, stored.plan_id).plan_id
        result["rss_bytes"] = {"cropflow": peak_rss_bytes()}
        for index, worker in enumerate(worker_processes):
            pids = [worker.pid, *child_pids(worker.pid)]
            result["rss_bytes"][f"worker {index + 1}"] = max(peak_rss_bytes(pid) for pid in pids)
    finally:
        _stop_workers(worker_processes)
        runtime.close()
    result["timings_s"] = timings


def _distributed_batches_and_dispatch(runtime: Runtime, plan_id: int, expected: int) -> dict[str, float]:
    start = time.perf_counter()
    ingest.complete_plan(runtime, existing_plan(runtime.db, plan_id), Progress())
    created_at = dispatched_at = None
    while dispatched_at is None:
        with runtime.db.session() as session:
            created, dispatched = session.execute(
                select(func.count(), func.count(Batch.dispatched_at)).where(Batch.plan_id == plan_id)
            ).one()
        now = time.perf_counter()
        if created_at is None and created >= expected:
            created_at = now
        if dispatched >= expected:
            dispatched_at = now
        # Counting a million rows costs the database a little; poll gently.
        time.sleep(PROGRESS_POLL_INTERVAL_S)
    # The workers publish each chunk right after storing it, so the two
    # phases overlap; dispatch is the time from the last insert on.
    return {"batches": created_at - start, "dispatch": dispatched_at - created_at}


def _first_day(runtime: Runtime, plan_id: int) -> dt.date:
    with runtime.db.session() as session:
        return session.scalar(select(func.min(Batch.scheduled_date)).where(Batch.plan_id == plan_id))


def _start_workers(settings: Settings, count: int) -> list[subprocess.Popen[bytes]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CROPFLOW_")}
    env.update({f"CROPFLOW_{name.upper()}": str(value) for name, value in settings.model_dump().items()})
    processes = []
    logs = []
    for index in range(count):
        log_path = settings.data_dir / f"worker-{index}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "w")  # noqa: SIM115 - closed with the process
        logs.append(log_path)
        processes.append(
            subprocess.Popen([sys.executable, "-m", "cropflow", "worker", "--concurrency=1"], env=env,
                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        )
    deadline = time.monotonic() + WORKER_READY_TIMEOUT_S
    while not all("Worker ready" in path.read_text() for path in logs):
        if time.monotonic() > deadline:
            raise SystemExit("workers did not start; see " + ", ".join(map(str, logs)))
        time.sleep(0.1)
    return processes


def _stop_workers(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
