import json
import os
import signal
import subprocess
import time

import pytest
from sqlalchemy import select

from cropflow.dispatch import outbox
from cropflow.store.batches import create_batches
from cropflow.store.plans import store_plan
from cropflow.store.tables import Batch
from tests.cli.conftest import CLI, run_cli
from tests.conftest import GROW_DAY, lot, parsed_plan

DAY = GROW_DAY.isoformat()


@pytest.fixture
def dispatched(runtime):
    """A plan of 3 batches on GROW_DAY and 2 on the day after, all dispatched."""
    import datetime as dt

    stored = store_plan(runtime.db, parsed_plan([lot(2, 3), lot(3, 2, day=GROW_DAY + dt.timedelta(days=1))]))
    create_batches(runtime.db, stored.lot_ids)
    outbox.relay(runtime.db, runtime.open_queue(), plan_id=stored.plan_id)
    return stored


def batch_ids_in(output: str) -> list[int]:
    return [json.loads(line)["batch_id"] for line in output.splitlines() if line.strip()]


def statuses(runtime):
    with runtime.db.session() as session:
        return dict(session.execute(select(Batch.id, Batch.status)).all())


def test_consume_until_empty_prints_each_message(runtime, dispatched, cli_env):
    result = run_cli(["consume", DAY, "--until-empty", "--json"], cli_env)

    assert result.returncode == 0, result.stderr
    assert batch_ids_in(result.stdout) == [1, 2, 3]
    assert json.loads(result.stdout.splitlines()[0])["scheduled_date"] == DAY


def test_consume_from_drains_days_in_order(runtime, dispatched, cli_env):
    result = run_cli(["consume", "--from", DAY, "--until-empty", "--json"], cli_env)

    assert result.returncode == 0, result.stderr
    dates = [json.loads(line)["scheduled_date"] for line in result.stdout.splitlines()]
    assert dates == sorted(dates)
    assert len(dates) == 5


def test_mark_done_records_status_and_skips_on_redelivery(runtime, dispatched, cli_env):
    first = run_cli(["consume", DAY, "--until-empty", "--json", "--mark-done"], cli_env)
    with runtime.db.write_session() as session:
        session.execute(Batch.__table__.update().values(acked_at=None))
    again = run_cli(["consume", DAY, "--until-empty", "--json", "--mark-done"], cli_env)

    assert first.returncode == 0, first.stderr
    assert again.returncode == 0, again.stderr
    assert again.stdout == ""
    assert "done already; acked and skipped" in again.stderr
    assert [statuses(runtime)[batch_id] for batch_id in (1, 2, 3)] == ["done", "done", "done"]


def test_exec_failure_is_not_acked(runtime, dispatched, cli_env, tmp_path):
    cli_env["CROPFLOW_MAX_DELIVERIES"] = "2"

    result = run_cli(["consume", DAY, "--until-empty", "--exec", "cat >/dev/null; exit 4", "--mark-done"], cli_env)

    assert result.returncode == 1, result.stderr
    assert "command exited with status 4" in result.stderr
    with runtime.db.session() as session:
        rows = session.execute(select(Batch.status, Batch.dead_lettered_at, Batch.failure_count).where(Batch.id <= 3)).all()
    assert [(status, failures) for status, _, failures in rows] == [("failed", 2)] * 3
    assert all(dead_lettered is not None for _, dead_lettered, _ in rows)


def test_exec_receives_payload_on_stdin(runtime, dispatched, cli_env, tmp_path):
    received = tmp_path / "received.jsonl"

    result = run_cli(["consume", DAY, "--until-empty", "--exec", f"cat >> {received}"], cli_env)

    assert result.returncode == 0, result.stderr
    assert batch_ids_in(received.read_text()) == [1, 2, 3]


@pytest.mark.timeout(60)
def test_consumer_killed_before_ack_gets_batch_again(runtime, dispatched, cli_env, tmp_path):
    cli_env["CROPFLOW_LEASE_S"] = "1"
    marker = tmp_path / "received.json"
    consumer = subprocess.Popen(
        [*CLI, "consume", DAY, "--exec", f"cat > {marker}; sleep 30"],
        env=cli_env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not (marker.exists() and marker.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the consumer never received a batch"
    finally:
        os.killpg(consumer.pid, signal.SIGKILL)
        consumer.wait(timeout=10)
    held = json.loads(marker.read_text())["batch_id"]

    result = run_cli(["consume", DAY, "--until-empty", "--json", "--mark-done"], cli_env)

    assert result.returncode == 0, result.stderr
    assert held in batch_ids_in(result.stdout)
    assert sorted(batch_ids_in(result.stdout)) == [1, 2, 3]
    with runtime.db.session() as session:
        delivery_count = session.scalar(select(Batch.delivery_count).where(Batch.id == held))
    assert delivery_count == 2


@pytest.mark.timeout(90)
def test_two_consumers_never_hold_the_same_batch(runtime, cli_env):
    stored = store_plan(runtime.db, parsed_plan([lot(row, 30) for row in range(2, 8)]))
    create_batches(runtime.db, stored.lot_ids)
    outbox.relay(runtime.db, runtime.open_queue(), plan_id=stored.plan_id)
    command = [*CLI, "consume", DAY, "--until-empty", "--json", "--mark-done"]

    consumers = [
        subprocess.Popen(command, env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [consumer.communicate(timeout=80) for consumer in consumers]

    received = [batch_ids_in(stdout) for stdout, _ in outputs]
    all_ids = received[0] + received[1]
    assert all(consumer.returncode == 0 for consumer in consumers), [stderr for _, stderr in outputs]
    assert len(all_ids) == 180
    assert len(set(all_ids)) == 180


def test_missing_exec_command_stops_without_failing_batches(runtime, dispatched, cli_env):
    result = run_cli(["consume", DAY, "--until-empty", "--exec", "./no-such-script.sh"], cli_env)

    assert result.returncode == 2
    assert "cannot run" in result.stderr
    with runtime.db.session() as session:
        rows = session.execute(select(Batch.failure_count, Batch.dead_lettered_at, Batch.lease_owner)).all()
    assert set(rows) == {(0, None, None)}


def test_max_counts_failed_messages_too(runtime, dispatched, cli_env):
    result = run_cli(["consume", DAY, "--until-empty", "--exec", "cat >/dev/null; exit 4", "--max", "2"], cli_env)

    assert result.returncode == 1
    with runtime.db.session() as session:
        failures = session.scalars(select(Batch.failure_count).order_by(Batch.id)).all()
    assert failures == [1, 1, 0, 0, 0]


def test_dead_letters_requeue_puts_batches_back(runtime, dispatched, cli_env):
    cli_env["CROPFLOW_MAX_DELIVERIES"] = "1"
    run_cli(["consume", DAY, "--until-empty", "--exec", "cat >/dev/null; exit 4"], cli_env)
    listed = json.loads(run_cli(["dead-letters", "list", "--json"], cli_env).stdout)

    result = run_cli(["dead-letters", "requeue", "--date", DAY], cli_env)
    again = run_cli(["consume", DAY, "--until-empty", "--json"], cli_env)

    assert [row["reason"] for row in listed] == ["command exited with status 4"] * 3
    assert result.returncode == 0, result.stderr
    assert "Requeued 3" in result.stdout
    assert batch_ids_in(again.stdout) == [1, 2, 3]
