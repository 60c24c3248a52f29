"""Benchmark cropflow on a synthetic plan against the raw I/O floor of this machine.

Example:
    python bench/run.py --batches 100000 --mode embedded
    python bench/run.py --batches 1000000 --mode distributed --workers 2 --json out.json

Distributed mode uses PostgreSQL and RabbitMQ on 127.0.0.1 (``--postgres``,
``--broker``), in a database and with queue names of its own that are
removed afterwards. docs/benchmarks.md explains each number.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from floors import (
    amqp_publish_floor_s,
    postgres_copy_floor_s,
    read_floor_s,
    sqlite_insert_floor_s,
    sqlite_update_floor_s,
)
from synthetic import write_synthetic_plan

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
GIB = 1024**3
# Size of one batch message in bytes, measured on the synthetic plan.
MESSAGE_BYTES = 330


def main() -> None:
    args = parse_args()
    plan_path = cached_plan(args.batches, args.seed)
    print(f"Plan: {plan_path} ({plan_path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="cropflow-bench-") as work_dir:
        work = Path(work_dir)
        database_url = create_database(args.postgres) if args.mode == "distributed" else ""
        try:
            cropflow = run_cropflow(args, plan_path, work, database_url)
            floor = run_floor(args, plan_path, work, database_url)
        finally:
            if database_url:
                drop_database(args.postgres, database_url)

    report = build_report(args, plan_path, cropflow, floor)
    print_table(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=10_000, help="batches in the synthetic plan")
    parser.add_argument("--mode", choices=["embedded", "distributed"], default="embedded")
    parser.add_argument("--workers", type=int, default=2, help="cropflow worker processes (distributed)")
    parser.add_argument("--seed", type=int, default=11, help="seed of the synthetic plan")
    parser.add_argument("--json", help="also write the report to this JSON file")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="PostgreSQL URL allowed to create databases (distributed)")
    parser.add_argument("--broker", default="amqp://guest:guest@127.0.0.1:5672//", help="RabbitMQ URL (distributed)")
    return parser.parse_args()


def cached_plan(batches: int, seed: int) -> Path:
    path = CACHE_DIR / f"plan-{batches}-{seed}.xlsx"
    if not path.exists():
        start = time.perf_counter()
        partial = path.with_suffix(".partial.xlsx")
        lots = write_synthetic_plan(partial, batches=batches, seed=seed)
        partial.rename(path)
        print(f"Generated {lots} lots in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return path


def run_cropflow(args: argparse.Namespace, plan_path: Path, work: Path, database_url: str) -> dict[str, Any]:
    """Run cropflow's phases in a fresh process, so that its peak RSS is its own."""
    from cropflow.settings import Settings

    tag = uuid.uuid4().hex[:8]
    settings = Settings(
        data_dir=work / "data",
        database_url=database_url,
        broker_url=args.broker if args.mode == "distributed" else "",
        exchange_name=f"cropflow-bench-{tag}.batches",
        queue_prefix=f"cropflow-bench-{tag}-",
        task_queue=f"cropflow-bench-{tag}.lots",
        relay_grace_s=600,
    )
    context = multiprocessing.get_context("spawn")
    manager = context.Manager()
    result = manager.dict()
    process = context.Process(target=_run_phases, args=(settings, plan_path, args.workers, result))
    print(f"Running cropflow in {args.mode} mode...", file=sys.stderr)
    process.start()
    process.join()
    if process.exitcode != 0:
        raise SystemExit(f"the cropflow run failed with exit code {process.exitcode}")
    outcome = dict(result)
    manager.shutdown()
    if args.mode == "distributed":
        delete_queues(settings)
    return outcome


def _run_phases(settings: Any, plan_path: Path, workers: int, result: Any) -> None:
    from cropflow_phases import run_phases

    local: dict[str, Any] = {}
    run_phases(settings, plan_path, workers, local)
    result.update(local)


def run_floor(args: argparse.Namespace, plan_path: Path, work: Path, database_url: str) -> dict[str, float]:
    print("Measuring the raw floor...", file=sys.stderr)
    floor = {"read": read_floor_s(plan_path)}
    if args.mode == "embedded":
        floor["insert"] = sqlite_insert_floor_s(work, args.batches)
        floor["publish"] = sqlite_update_floor_s(work, args.batches)
    else:
        floor["insert"] = postgres_copy_floor_s(database_url, args.batches)
        floor["publish"] = amqp_publish_floor_s(MESSAGE_BYTES, args.batches)
    return floor


def build_report(args: argparse.Namespace, plan_path: Path, cropflow: dict[str, Any], floor: dict[str, float]) -> dict:
    timings = cropflow["timings_s"]
    end_to_end_s = (
        timings["hash"] + timings["read_validate"] + timings["store"] + timings["batches"] + timings["dispatch"]
    )
    floor_s = floor["read"] + floor["insert"] + floor["publish"]
    phases = [
        ("hash file (SHA-256)", timings["hash"], None),
        ("read and validate", timings["read_validate"], floor["read"]),
        ("store plan and lots", timings["store"], None),
        ("create batches", timings["batches"], floor["insert"]),
        ("dispatch (confirmed)", timings["dispatch"], floor["publish"]),
        ("consume first day", timings["consume_first_day"], None),
        ("duplicate re-ingest", timings["duplicate_reingest"], None),
        ("end to end", end_to_end_s, floor_s),
    ]
    return {
        "mode": args.mode,
        "workers": args.workers if args.mode == "distributed" else 0,
        "batches": args.batches,
        "batches_stored": cropflow["batches_stored"],
        "plan_file_bytes": plan_path.stat().st_size,
        "machine": {"cpus": multiprocessing.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "phases": [
            {"phase": name, "seconds": round(seconds, 3), "floor_seconds": None if base is None else round(base, 3),
             "ratio": None if base is None else round(seconds / base, 2)}
            for name, seconds, base in phases
        ],
        "batches_per_second": round(args.batches / end_to_end_s),
        "floor_batches_per_second": round(args.batches / floor_s),
        "throughput_vs_floor": round(floor_s / end_to_end_s, 3),
        "peak_rss_bytes": cropflow["rss_bytes"],
        "first_day_batches": cropflow["first_day_batches"],
    }


def print_table(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"cropflow, {report['mode']} mode, {report['batches']:,} batches", title_justify="left")
    for column in ("phase", "cropflow s", "floor s", "ratio"):
        table.add_column(column, justify="left" if column == "phase" else "right")
    for phase in report["phases"]:
        floor = phase["floor_seconds"]
        table.add_row(phase["phase"], f"{phase['seconds']:.2f}", "" if floor is None else f"{floor:.2f}",
                      "" if phase["ratio"] is None else f"{phase['ratio']:.2f}")
    console = Console()
    console.print(table)
    console.print(
        f"End to end: {report['batches_per_second']:,} batches/s; floor {report['floor_batches_per_second']:,}/s "
        f"({report['throughput_vs_floor']:.0%} of the floor's throughput)"
    )
    console.print("Peak RSS: " + ", ".join(
        f"{name} {size / 2**20:.0f} MiB" for name, size in report["peak_rss_bytes"].items()
    ))
    console.print(f"Batches stored: {report['batches_stored']:,}; first day consumed: {report['first_day_batches']:,}")


def create_database(admin_url: str) -> str:
    import psycopg

    name = f"cropflow_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    url = f"{base}/{name}"
    from cropflow.store.db import Database

    database = Database(url)
    database.upgrade()
    database.dispose()
    return url


def drop_database(admin_url: str, database_url: str) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def delete_queues(settings: Any) -> None:
    """Delete the date queues, task queue and exchange this run declared (names unique to it)."""
    import subprocess

    import amqp

    listing = subprocess.run(["rabbitmqctl", "list_queues", "-q", "--no-table-headers", "name"],
                             capture_output=True, text=True, timeout=60, check=False)
    names = [line.strip() for line in listing.stdout.splitlines()
             if line.strip().startswith(settings.queue_prefix)] + [settings.task_queue]
    connection = amqp.Connection("127.0.0.1:5672", userid="guest", password="guest")
    connection.connect()
    for name in names:
        channel = connection.channel()
        channel.queue_delete(name)
        channel.close()
    channel = connection.channel()
    channel.exchange_delete(settings.exchange_name)
    channel.close()
    connection.close()


if __name__ == "__main__":
    main()
