"""Concurrent and killed ``cropflow`` processes in embedded mode.

Every process is started in its own session and killed by its process
group, so that a ``--exec`` child dies with its consumer.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from cropflow.example_plan import write_example_plan
from tests.hostile.conftest import (
    AS_OF,
    CLI,
    assert_no_crash,
    batches_json,
    ingest_json,
    plan_sheets,
    run_cropflow,
    status_json,
    stderr_excerpt,
)
from tests.workbook.builders import SCHEDULE, write_xlsx

START = dt.date(2028, 1, 1)


def start_cropflow(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def kill_group(process: subprocess.Popen[str]) -> None:
    """SIGKILL the process and its children, then reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.communicate()


def query(data_dir: Path, sql: str) -> list[tuple]:
    """Run a read-only query on the embedded database, or return no rows while it or its tables do not exist yet."""
    path = data_dir / "cropflow.db"
    if not path.exists():
        return []
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as connection:
            return connection.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []


def wait_until(condition: Callable[[], bool], process: subprocess.Popen[str], timeout_s: float) -> bool:
    """Poll ``condition`` until it is true; return False if ``process`` ended first or time ran out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.02)
    return False


def count_where(data_dir: Path, sql: str) -> int:
    rows = query(data_dir, sql)
    return rows[0][0] if rows else 0


def assert_plan_complete(env: dict[str, str], plan_id: int, expected_batches: int) -> None:
    """Check that the plan has every batch exactly once, each dispatched and waiting in its date's queue."""
    batches = batches_json(env, "--plan", str(plan_id))
    assert len(batches) == expected_batches
    keys = Counter((batch["lot_id"], batch["sequence"]) for batch in batches)
    assert [key for key, count in keys.items() if count > 1] == []
    assert Counter(batch["status"] for batch in batches) == {"dispatched": expected_batches}

    status = status_json(env)
    assert sum(row["total"] for row in status) == expected_batches
    assert sum(row["queue_depth"] for row in status) == expected_batches
    assert sum(row["dead_lettered"] for row in status) == 0


def test_concurrent_same_file_stores_one_plan(tmp_path, cli_env):
    summary = write_example_plan(tmp_path / "plan.xlsx", start=START, days=30)
    processes = [start_cropflow(["ingest", str(summary.path), "--json", "--as-of", AS_OF], cli_env) for _ in range(2)]
    outputs = [process.communicate(timeout=120) for process in processes]

    reports = [json.loads(stdout) for stdout, _ in outputs]
    assert [process.returncode for process in processes] == [0, 0], [stderr for _, stderr in outputs]
    assert sorted(report["status"] for report in reports) == ["accepted", "duplicate"]
    assert reports[0]["plan_id"] == reports[1]["plan_id"]
    assert [report["batches"] for report in reports] == [summary.batches, summary.batches]
    plans = json.loads(run_cropflow(["plans", "--json"], cli_env).stdout)
    assert len(plans) == 1
    assert_plan_complete(cli_env, reports[0]["plan_id"], summary.batches)


def test_concurrent_files_keep_exact_counts(tmp_path, cli_env):
    summaries = [write_example_plan(tmp_path / f"plan-{seed}.xlsx", start=START, days=30, seed=seed) for seed in (7, 8)]
    processes = [
        start_cropflow(["ingest", str(summary.path), "--json", "--as-of", AS_OF], cli_env) for summary in summaries
    ]
    outputs = [process.communicate(timeout=120) for process in processes]

    reports = [json.loads(stdout) for stdout, _ in outputs]
    assert [report["status"] for report in reports] == ["accepted", "accepted"], [stderr for _, stderr in outputs]
    assert reports[0]["plan_id"] != reports[1]["plan_id"]
    for report, summary in zip(reports, summaries, strict=True):
        assert report["batches"] == summary.batches
        batches = batches_json(cli_env, "--plan", str(report["plan_id"]))
        assert len(batches) == summary.batches
        assert len({(batch["lot_id"], batch["sequence"]) for batch in batches}) == summary.batches


@pytest.mark.timeout(120)
def test_killed_ingest_is_completed_by_rerun(tmp_path, cli_env, data_dir):
    """SIGKILL an ingest of about 80,000 batches at a quarter of its batches, the next one at two thirds."""
    summary = write_example_plan(tmp_path / "big.xlsx", start=START, days=1500)
    ingest_args = ["ingest", str(summary.path), "--json", "--as-of", AS_OF]
    killed_at = []
    for fraction in (0.25, 0.66):
        threshold = int(summary.batches * fraction)
        ingest = start_cropflow(ingest_args, cli_env)
        reached = wait_until(
            lambda limit=threshold: count_where(data_dir, "SELECT count(*) FROM batches") > limit, ingest, 60
        )
        kill_group(ingest)
        killed_at.append(count_where(data_dir, "SELECT count(*) FROM batches") if reached else None)

    result, report = ingest_json(summary.path, cli_env)

    assert None not in killed_at, f"an ingest ended before it was killed: batches at each kill {killed_at}"
    assert killed_at[-1] < summary.batches
    assert_no_crash(result)
    assert result.returncode == 0
    assert report["status"] == "duplicate"
    assert report["batches"] == summary.batches
    plans = json.loads(run_cropflow(["plans", "--json"], cli_env).stdout)
    assert [(plan["plan_id"], plan["lots"]) for plan in plans] == [(report["plan_id"], summary.lots)]
    assert_plan_complete(cli_env, report["plan_id"], summary.batches)


@pytest.fixture
def small_plan(tmp_path, cli_env) -> list[str]:
    """Ingest a plan of 3 batches on each of 4 days; return the days."""
    days = [START + dt.timedelta(days=offset) for offset in range(4)]
    sheets = plan_sheets()
    sheets[SCHEDULE] = [sheets[SCHEDULE][0]] + [["Kale", 3, day, 1, 1] for day in days]
    result, report = ingest_json(write_xlsx(tmp_path / "small.xlsx", sheets), cli_env)
    assert report["status"] == "accepted", stderr_excerpt(result)
    return [day.isoformat() for day in days]


def test_killed_consumer_loses_no_batch(cli_env, data_dir, small_plan):
    cli_env["CROPFLOW_LEASE_S"] = "1"
    handling = "SELECT count(*) FROM batches WHERE status = 'started'"
    kills = 0
    for _ in range(3):
        consumer = start_cropflow(["consume", "--from", small_plan[0], "--mark-done", "--exec", "sleep 5"], cli_env)
        kills += wait_until(lambda: count_where(data_dir, handling) > 0, consumer, 30)
        kill_group(consumer)

    drain = run_cropflow(
        ["consume", "--from", small_plan[0], "--until-empty", "--mark-done", "--exec", "true"], cli_env
    )

    assert kills == 3
    assert_no_crash(drain)
    assert drain.returncode == 0
    assert Counter(batch["status"] for batch in batches_json(cli_env)) == {"done": 12}
    assert [(row["queue_depth"], row["dead_lettered"]) for row in status_json(cli_env)] == [(0, 0)] * 4


def test_concurrent_from_consumers_keep_date_order(cli_env, data_dir, small_plan):
    consumers = [
        start_cropflow(
            [
                "consume",
                "--from",
                small_plan[0],
                "--until-empty",
                "--json",
                "--mark-done",
                "--exec",
                f"sleep 0.{index + 1}",
            ],
            cli_env,
        )
        for index in range(3)
    ]
    outputs = [consumer.communicate(timeout=120) for consumer in consumers]

    received = [[json.loads(line) for line in stdout.splitlines()] for stdout, _ in outputs]
    assert [consumer.returncode for consumer in consumers] == [0, 0, 0], [stderr for _, stderr in outputs]
    for messages in received:
        days = [message["scheduled_date"] for message in messages]
        assert days == sorted(days)
    assert sorted(message["batch_id"] for messages in received for message in messages) == list(range(1, 13))
    # No batch of a day started before the last batch of the day before was acked.
    spans = query(
        data_dir,
        "SELECT scheduled_date, min(started_at), max(acked_at) FROM batches GROUP BY scheduled_date ORDER BY 1",
    )
    for (day, _, last_ack), (next_day, first_start, _) in itertools.pairwise(spans):
        assert first_start >= last_ack, f"{next_day} started at {first_start}, before {day} was acked at {last_ack}"
