"""Crashes and outages in distributed mode: nothing lost, nothing created twice."""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time

import amqp
import psycopg
import pytest
from sqlalchemy import func, select

from cropflow.example_plan import write_example_plan
from cropflow.store.tables import Batch, Plan
from tests.cli.conftest import run_cli
from tests.distributed.conftest import POSTGRES_ADMIN_URL, list_queue_names

AS_OF = "2027-12-01"
START = dt.date(2028, 1, 3)


def count_batches(runtime, *where):
    with runtime.db.session() as session:
        return session.scalar(select(func.count()).select_from(Batch).where(*where)) or 0


def expected_batches(runtime, plan_id):
    with runtime.db.session() as session:
        return session.get_one(Plan, plan_id).batch_count


def wait_until(condition, *, timeout_s, interval_s=0.2, message="condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval_s)
    raise AssertionError(f"{message} not reached within {timeout_s} s")


def drain_queues(prefix):
    """Read and ack every message of the date queues starting with ``prefix``; return batch ids."""
    received = []
    connection = amqp.Connection("127.0.0.1:5672", userid="guest", password="guest")
    connection.connect()
    channel = connection.channel()
    try:
        for name in list_queue_names(prefix):
            while (message := channel.basic_get(name, no_ack=True)) is not None:
                received.append(json.loads(message.body)["batch_id"])
    finally:
        channel.close()
        connection.close()
    return received


def all_batch_ids(runtime):
    with runtime.db.session() as session:
        return set(session.scalars(select(Batch.id)))


def assert_each_batch_once(runtime, expected):
    with runtime.db.session() as session:
        distinct = session.scalar(
            select(func.count()).select_from(select(Batch.lot_id, Batch.sequence).distinct().subquery())
        )
    assert count_batches(runtime) == expected
    assert distinct == expected


def ingest_async(path, env):
    return run_cli(["ingest", str(path), "--json", "--as-of", AS_OF], env, timeout_s=300)


def batch_insert_in_progress(runtime):
    """Return True while a transaction of this test's database is inserting batches and has not committed.

    The COPY of the batches and the update of their lots run in the same
    transaction as the commit that follows them.
    """
    database = runtime.db.engine.url.database
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
            "AND state IN ('active', 'idle in transaction') "
            "AND (query ILIKE 'COPY batches%%' OR query ILIKE 'UPDATE lots SET batches_created_at%%')",
            (database,),
        ).fetchone()
    return bool(row and row[0])


@pytest.mark.timeout(300)
def test_worker_killed_mid_lot_loses_and_doubles_nothing(distributed_runtime, distributed_env, start_worker, tmp_path):
    plan_path = write_example_plan(tmp_path / "big.xlsx", start=START, days=600).path
    # Half the lots in each of two tasks, so that each insert runs for a while.
    distributed_env["CROPFLOW_LOTS_PER_TASK"] = "2500"
    worker = start_worker(concurrency=2)

    report = json.loads(ingest_async(plan_path, distributed_env).stdout)
    plan_id = report["plan_id"]
    expected = expected_batches(distributed_runtime, plan_id)
    wait_until(
        lambda: batch_insert_in_progress(distributed_runtime), timeout_s=60, interval_s=0.01, message="an insert"
    )
    worker.kill()
    created_at_kill = count_batches(distributed_runtime)
    start_worker(concurrency=2)
    wait_until(
        lambda: count_batches(distributed_runtime, Batch.dispatched_at.is_not(None)) == expected,
        timeout_s=200,
        message="every batch dispatched",
    )

    assert created_at_kill < expected, "the worker finished before it was killed; the test proved nothing"
    assert_each_batch_once(distributed_runtime, expected)
    received = drain_queues(distributed_runtime.settings.queue_prefix)
    assert set(received) == all_batch_ids(distributed_runtime)


@pytest.mark.timeout(300)
def test_broker_restart_mid_dispatch_loses_nothing(distributed_runtime, distributed_env, start_worker, tmp_path):
    plan_path = write_example_plan(tmp_path / "big.xlsx", start=START, days=400).path
    distributed_env["CROPFLOW_LOTS_PER_TASK"] = "10"
    distributed_env["CROPFLOW_RELAY_GRACE_S"] = "1"
    start_worker(concurrency=2)

    report = json.loads(ingest_async(plan_path, distributed_env).stdout)
    expected = expected_batches(distributed_runtime, report["plan_id"])
    wait_until(
        lambda: count_batches(distributed_runtime, Batch.dispatched_at.is_not(None)) > 0,
        timeout_s=60, interval_s=0.02, message="first dispatch",
    )
    subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True, timeout=120)
    dispatched_during_outage = count_batches(distributed_runtime, Batch.dispatched_at.is_not(None))
    time.sleep(2)
    subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True, timeout=120)
    wait_until(
        lambda: count_batches(distributed_runtime, Batch.dispatched_at.is_not(None)) == expected,
        timeout_s=200,
        message="every batch dispatched after the restart",
    )

    assert dispatched_during_outage < expected, "dispatch finished before the broker stopped"
    assert_each_batch_once(distributed_runtime, expected)
    received = drain_queues(distributed_runtime.settings.queue_prefix)
    assert set(received) == all_batch_ids(distributed_runtime)


def publish_small_plan(runtime, env, start_worker, tmp_path, *, days=2):
    plan_path = write_example_plan(tmp_path / "small.xlsx", start=START, days=days).path
    start_worker()
    result = run_cli(["ingest", str(plan_path), "--json", "--as-of", AS_OF, "--wait"], env, timeout_s=200)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.timeout(120)
def test_consumer_killed_before_ack_gets_message_again(distributed_runtime, distributed_env, start_worker, tmp_path):
    publish_small_plan(distributed_runtime, distributed_env, start_worker, tmp_path, days=1)
    day = START.isoformat()
    marker = tmp_path / "received.json"
    consumer = subprocess.Popen(
        [sys.executable, "-m", "cropflow", "consume", day, "--exec", f"cat > {marker}; sleep 60", "--mark-done"],
        env=distributed_env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: marker.exists() and marker.stat().st_size > 0, timeout_s=30, message="first message")
    finally:
        os.killpg(consumer.pid, signal.SIGKILL)
        consumer.wait(timeout=10)
    held = json.loads(marker.read_text())["batch_id"]

    first = run_cli(["consume", day, "--until-empty", "--json", "--mark-done"], distributed_env)
    second = run_cli(["consume", day, "--until-empty", "--json", "--mark-done"], distributed_env)

    assert first.returncode == 0, first.stderr
    received = [json.loads(line)["batch_id"] for line in first.stdout.splitlines()]
    assert held in received
    assert sorted(received) == sorted(
        batch_id for batch_id in all_batch_ids(distributed_runtime)
    )
    assert second.stdout == ""
    with distributed_runtime.db.session() as session:
        statuses = set(session.scalars(select(Batch.status)))
        held_deliveries = session.scalar(select(Batch.delivery_count).where(Batch.id == held))
    assert statuses == {"done"}
    assert held_deliveries == 2


@pytest.mark.timeout(120)
def test_done_batch_delivered_again_has_no_second_effect(distributed_runtime, distributed_env, start_worker, tmp_path):
    publish_small_plan(distributed_runtime, distributed_env, start_worker, tmp_path, days=1)
    day = START.isoformat()
    run_cli(["consume", day, "--until-empty", "--mark-done", "--json"], distributed_env)
    with distributed_runtime.db.session() as session:
        finished = dict(session.execute(select(Batch.id, Batch.finished_at)).all())
    with distributed_runtime.db.write_session() as session:
        session.execute(Batch.__table__.update().values(dispatched_at=None, acked_at=None))
    run_cli(["relay"], distributed_env)

    again = run_cli(["consume", day, "--until-empty", "--mark-done", "--json"], distributed_env)

    assert again.returncode == 0, again.stderr
    assert again.stdout == ""
    assert again.stderr.count("done already; acked and skipped") == len(finished)
    with distributed_runtime.db.session() as session:
        assert dict(session.execute(select(Batch.id, Batch.finished_at)).all()) == finished


@pytest.mark.timeout(120)
def test_always_failing_message_goes_to_dead_letter_queue(distributed_runtime, distributed_env, start_worker, tmp_path):
    publish_small_plan(distributed_runtime, distributed_env, start_worker, tmp_path, days=1)
    distributed_env["CROPFLOW_MAX_DELIVERIES"] = "3"
    day = START.isoformat()

    result = run_cli(
        ["consume", day, "--until-empty", "--exec", "cat >/dev/null; echo sensor offline >&2; exit 7", "--max", "500"],
        distributed_env, timeout_s=100,
    )

    assert result.returncode == 1, result.stderr
    total = len(all_batch_ids(distributed_runtime))
    connection = amqp.Connection("127.0.0.1:5672", userid="guest", password="guest")
    connection.connect()
    channel = connection.channel()
    dead = []
    while (message := channel.basic_get(f"{distributed_runtime.settings.queue_prefix}dead-letters", no_ack=True)):
        dead.append(message)
    channel.close()
    connection.close()
    assert len(dead) == total
    assert dead[0].headers["x-cropflow-reason"] == "command exited with status 7: sensor offline"
    with distributed_runtime.db.session() as session:
        rows = session.execute(select(Batch.status, Batch.failure_count)).all()
    assert set(rows) == {("failed", 3)}
    assert count_batches(distributed_runtime, Batch.dead_lettered_at.is_(None)) == 0


@pytest.mark.timeout(300)
def test_two_workers_two_plans_at_once_give_exact_counts(distributed_runtime, distributed_env, start_worker, tmp_path):
    first = write_example_plan(tmp_path / "first.xlsx", start=START, days=120, seed=1).path
    second = write_example_plan(tmp_path / "second.xlsx", start=START, days=90, seed=2).path
    start_worker()
    start_worker()
    command = [sys.executable, "-m", "cropflow", "ingest", "--json", "--as-of", AS_OF, "--wait"]

    shells = [
        subprocess.Popen([*command, str(path)], env=distributed_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for path in (first, second)
    ]
    outputs = [shell.communicate(timeout=280) for shell in shells]

    assert [shell.returncode for shell in shells] == [0, 0], [stderr[-3000:] for _, stderr in outputs]
    reports = [json.loads(stdout) for stdout, _ in outputs]

    assert [report["status"] for report in reports] == ["accepted", "accepted"]
    for report in reports:
        plan_id = report["plan_id"]
        assert count_batches(distributed_runtime, Batch.plan_id == plan_id) == expected_batches(distributed_runtime, plan_id)
        assert report["batches"] == expected_batches(distributed_runtime, plan_id)
    total = sum(report["batches"] for report in reports)
    assert_each_batch_once(distributed_runtime, total)
    assert sorted(drain_queues(distributed_runtime.settings.queue_prefix)) == sorted(all_batch_ids(distributed_runtime))


@pytest.mark.timeout(120)
def test_periodic_relay_publishes_batches_stranded_by_a_crash(distributed_runtime, distributed_env, start_worker):
    """Batches committed by a process that died before publishing are published by the worker's relay."""
    from cropflow.store.batches import create_batches
    from cropflow.store.plans import store_plan
    from tests.conftest import lot, parsed_plan

    stored = store_plan(distributed_runtime.db, parsed_plan([lot(2, 30), lot(3, 20)]))
    create_batches(distributed_runtime.db, stored.lot_ids)
    distributed_env["CROPFLOW_RELAY_GRACE_S"] = "0"
    start_worker()

    wait_until(
        lambda: count_batches(distributed_runtime, Batch.dispatched_at.is_not(None)) == 50,
        timeout_s=60,
        message="stranded batches dispatched",
    )

    assert sorted(drain_queues(distributed_runtime.settings.queue_prefix)) == sorted(all_batch_ids(distributed_runtime))
