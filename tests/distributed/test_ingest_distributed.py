import json
from collections import Counter

from sqlalchemy import func, select

from cropflow.store.tables import Batch, Plan
from tests.cli.conftest import run_cli
from tests.cli.test_ingest import AS_OF, EXAMPLE, read_schedule
from tests.distributed.conftest import queue_depths


def test_example_plan_with_two_workers_fills_date_queues(distributed_runtime, distributed_env, start_worker):
    start_worker()
    start_worker()

    result = run_cli(["ingest", str(EXAMPLE), "--json", "--as-of", AS_OF, "--wait"], distributed_env, timeout_s=300)

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    schedule, _ = read_schedule(EXAMPLE)
    expected_per_day = Counter()
    for _, crop_count, day, _, _ in schedule:
        expected_per_day[day.isoformat()] += int(crop_count)
    assert result.returncode == 0, result.stderr
    assert report["status"] == "accepted"
    assert report["batches"] == sum(expected_per_day.values())
    with distributed_runtime.db.session() as session:
        stored = session.scalar(select(func.count()).select_from(Batch))
        distinct = session.scalar(select(func.count()).select_from(select(Batch.lot_id, Batch.sequence).distinct().subquery()))
        undispatched = session.scalar(select(func.count()).select_from(Batch).where(Batch.dispatched_at.is_(None)))
    assert stored == sum(expected_per_day.values())
    assert distinct == stored
    assert undispatched == 0
    prefix = distributed_runtime.settings.queue_prefix
    depths = queue_depths(prefix)
    assert depths == {f"{prefix}{day}": count for day, count in expected_per_day.items()}


def test_same_file_ingested_concurrently_gives_one_plan(distributed_runtime, distributed_env, start_worker):
    import subprocess
    import sys

    start_worker()
    command = [sys.executable, "-m", "cropflow", "ingest", str(EXAMPLE), "--json", "--as-of", AS_OF, "--wait"]
    shells = [
        subprocess.Popen(command, env=distributed_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [shell.communicate(timeout=300) for shell in shells]

    reports = [json.loads(stdout) for stdout, _ in outputs]
    assert sorted(report["status"] for report in reports) == ["accepted", "duplicate"]
    assert reports[0]["plan_id"] == reports[1]["plan_id"]
    schedule, _ = read_schedule(EXAMPLE)
    with distributed_runtime.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Plan)) == 1
        assert session.scalar(select(func.count()).select_from(Batch)) == sum(int(row[1]) for row in schedule)


def test_unreachable_database_stores_nothing_and_exits_3(distributed_runtime, distributed_env):
    distributed_env["CROPFLOW_DATABASE_URL"] = "postgresql+psycopg://postgres@127.0.0.1:1/cropflow"

    result = run_cli(["ingest", str(EXAMPLE), "--json", "--as-of", AS_OF], distributed_env)

    assert result.returncode == 3
    assert "unreachable" in result.stderr
    assert "Traceback" not in result.stderr
    with distributed_runtime.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Plan)) == 0
