import datetime as dt
import json

import amqp
import pytest

from cropflow.dispatch.amqp import AmqpQueue
from cropflow.errors import QueueMismatchError
from tests.cli.conftest import run_cli
from tests.distributed.test_faults import START, publish_small_plan


def test_queue_declared_with_other_type_is_a_clear_error(distributed_runtime, distributed_settings):
    day = dt.date(2031, 5, 6)
    name = f"{distributed_settings.queue_prefix}{day.isoformat()}"
    connection = amqp.Connection("127.0.0.1:5672", userid="guest", password="guest")
    connection.connect()
    channel = connection.channel()
    channel.queue_declare(name, durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"})
    channel.close()
    connection.close()
    queue = AmqpQueue(distributed_settings, distributed_runtime.db)

    with pytest.raises(QueueMismatchError) as raised:
        queue._declare_date_queue(day)

    assert "x-queue-type" in str(raised.value)
    assert "CROPFLOW_QUEUE_TYPE" in str(raised.value)
    queue.close()


def test_consume_from_takes_days_in_order(distributed_runtime, distributed_env, start_worker, tmp_path):
    publish_small_plan(distributed_runtime, distributed_env, start_worker, tmp_path, days=3)

    result = run_cli(["consume", "--from", START.isoformat(), "--until-empty", "--json"], distributed_env)

    assert result.returncode == 0, result.stderr
    dates = [json.loads(line)["scheduled_date"] for line in result.stdout.splitlines()]
    assert dates == sorted(dates)
    assert set(dates) == {(START + dt.timedelta(days=offset)).isoformat() for offset in range(3)}


def test_prune_deletes_only_empty_past_queues(distributed_runtime, distributed_env, start_worker, tmp_path):
    publish_small_plan(distributed_runtime, distributed_env, start_worker, tmp_path, days=2)
    first_day = START.isoformat()
    second_day = (START + dt.timedelta(days=1)).isoformat()
    run_cli(["consume", first_day, "--until-empty"], distributed_env)

    result = run_cli(["queues", "prune", "--before", "2028-02-01", "--json"], distributed_env)

    assert result.returncode == 0, result.stderr
    prefix = distributed_runtime.settings.queue_prefix
    assert json.loads(result.stdout) == {"deleted": [f"{prefix}{first_day}"], "kept": [f"{prefix}{second_day}"]}
    status_result = run_cli(["status", "--json"], distributed_env)
    assert status_result.returncode == 0, status_result.stderr
    status = json.loads(status_result.stdout)
    assert [row["queue_depth"] for row in status] == [0, status[1]["total"]]
