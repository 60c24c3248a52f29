import datetime as dt
import multiprocessing
import time

import pytest
from sqlalchemy import select

from cropflow.dispatch import outbox
from cropflow.dispatch.embedded import EmbeddedQueue
from cropflow.settings import Settings
from cropflow.store.batches import create_batches
from cropflow.store.db import Database
from cropflow.store.plans import store_plan
from cropflow.store.tables import Batch
from tests.conftest import GROW_DAY, lot, parsed_plan

NEXT_DAY = GROW_DAY + dt.timedelta(days=1)


def dispatch_plan(runtime, lots):
    stored = store_plan(runtime.db, parsed_plan(lots))
    create_batches(runtime.db, stored.lot_ids)
    queue = EmbeddedQueue(runtime.db, lease_s=30, max_deliveries=3)
    outbox.relay(runtime.db, queue, plan_id=stored.plan_id)
    return stored


def make_queue(runtime, *, lease_s=30.0, max_deliveries=3):
    return EmbeddedQueue(runtime.db, lease_s=lease_s, max_deliveries=max_deliveries)


def test_undispatched_batches_are_not_in_queue(runtime):
    stored = store_plan(runtime.db, parsed_plan([lot(2, 3)]))
    create_batches(runtime.db, stored.lot_ids)
    queue = make_queue(runtime)

    assert queue.receive(GROW_DAY, 10) == []
    assert queue.depth(GROW_DAY) == 0
    assert outbox.count_undispatched(runtime.db) == 3


def test_receive_returns_only_that_days_messages(runtime):
    dispatch_plan(runtime, [lot(2, 2), lot(3, 3, day=NEXT_DAY)])
    queue = make_queue(runtime)

    deliveries = queue.receive(GROW_DAY, 10)

    assert len(deliveries) == 2
    assert {delivery.message.payload["scheduled_date"] for delivery in deliveries} == {GROW_DAY.isoformat()}
    assert queue.days_with_messages(GROW_DAY) == [GROW_DAY, NEXT_DAY]


def test_message_payload_has_recipe_snapshot(runtime):
    dispatch_plan(runtime, [lot(2, 2, recommended=(2,))])
    queue = make_queue(runtime)

    payload = queue.receive(GROW_DAY, 1)[0].message.payload

    assert payload["sequence"] == 1
    assert payload["lot_size"] == 2
    assert payload["farm"] == {"id": 1, "name": "Compton"}
    assert payload["cultivar"] == "Basil Genovese"
    assert payload["scheduled_date"] == "2030-03-04"
    assert payload["recipe"] == {
        "id": 2,
        "version": 1,
        "source": "recommended",
        "light_intensity": 250,
        "lights_on": 16,
        "lights_off": 8,
        "co2_ppm": 900,
        "parameters": {"temperature_c": 22.0},
    }


def test_leased_message_is_hidden_from_other_consumers(runtime):
    dispatch_plan(runtime, [lot(2, 1)])
    first, second = make_queue(runtime), make_queue(runtime)

    assert len(first.receive(GROW_DAY, 10)) == 1
    assert second.receive(GROW_DAY, 10) == []
    assert second.depth(GROW_DAY) == 1


def test_acked_message_leaves_the_queue(runtime):
    dispatch_plan(runtime, [lot(2, 1)])
    queue = make_queue(runtime)

    delivery = queue.receive(GROW_DAY, 1)[0]

    assert queue.ack(delivery)
    assert queue.depth(GROW_DAY) == 0
    assert queue.days_with_messages(GROW_DAY) == []


def test_expired_lease_is_delivered_again(runtime):
    dispatch_plan(runtime, [lot(2, 1)])
    crashed, next_consumer = make_queue(runtime, lease_s=0.2), make_queue(runtime)

    first = crashed.receive(GROW_DAY, 1)[0]
    time.sleep(0.3)
    again = next_consumer.receive(GROW_DAY, 1)

    assert [delivery.batch_id for delivery in again] == [first.batch_id]
    assert again[0].delivery_count == 2
    assert not crashed.ack(first)
    assert next_consumer.ack(again[0])


def test_message_failing_every_time_is_dead_lettered(runtime):
    dispatch_plan(runtime, [lot(2, 1)])
    queue = make_queue(runtime, max_deliveries=3)

    outcomes = []
    for _ in range(3):
        with runtime.db.write_session() as session:
            session.execute(Batch.__table__.update().values(lease_expires_at=None))
        delivery = queue.receive(GROW_DAY, 1)[0]
        outcomes.append(queue.reject(delivery, "handler exited with status 1"))

    assert outcomes == [False, False, True]
    assert queue.depth(GROW_DAY) == 0
    with runtime.db.session() as session:
        batch = session.scalars(select(Batch)).one()
    assert batch.dead_lettered_at is not None
    assert batch.last_error == "handler exited with status 1"
    assert batch.status == "failed"


def test_rejected_message_waits_before_redelivery(runtime):
    dispatch_plan(runtime, [lot(2, 1)])
    queue = make_queue(runtime)

    queue.reject(queue.receive(GROW_DAY, 1)[0], "failed")

    assert queue.receive(GROW_DAY, 1) == []
    assert queue.depth(GROW_DAY) == 1


def _claim_all(database_url, day, results, start_together):
    db = Database(database_url)
    queue = EmbeddedQueue(db, lease_s=300, max_deliveries=3)
    start_together.wait(timeout=30)
    claimed = []
    while True:
        deliveries = queue.receive(day, 3)
        if not deliveries:
            break
        claimed.extend(delivery.batch_id for delivery in deliveries)
        for delivery in deliveries:
            queue.ack(delivery)
    results.put(claimed)
    db.dispose()


@pytest.mark.timeout(60)
def test_concurrent_consumers_never_share_a_batch(runtime):
    dispatch_plan(runtime, [lot(row, 40) for row in range(2, 12)])
    url = Settings(data_dir=runtime.settings.data_dir).resolved_database_url
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start_together = context.Barrier(3)

    workers = [
        context.Process(target=_claim_all, args=(url, GROW_DAY, results, start_together)) for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    claimed = [results.get(timeout=50) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)

    all_ids = [batch_id for ids in claimed for batch_id in ids]
    assert len(all_ids) == 400
    assert len(set(all_ids)) == 400
