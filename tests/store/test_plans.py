import pytest
from sqlalchemy import func, select

from cropflow.store.batches import create_batches
from cropflow.store.plans import store_plan
from cropflow.store.tables import Batch, Cultivar, Farm, Lot, Plan, RecipeVersion
from tests.conftest import lot, parsed_plan, recipe


def count(db, model, *where):
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_store_plan_writes_plan_lots_and_catalog(runtime):
    plan = parsed_plan([lot(2, 3), lot(3, 2, cultivar="  kale  RED russian "), lot(4, 1, cultivar="basil genovese")])

    stored = store_plan(runtime.db, plan)

    assert stored.created
    assert len(stored.lot_ids) == 3
    assert stored.batch_count == 6
    assert count(runtime.db, Plan) == 1
    assert count(runtime.db, Lot) == 3
    assert count(runtime.db, Farm) == 2
    assert count(runtime.db, RecipeVersion) == 3
    with runtime.db.session() as session:
        names = sorted(session.scalars(select(Cultivar.name)))
    assert names == ["Basil Genovese", "kale RED russian"]


def test_same_file_stored_twice_returns_first_plan(runtime):
    plan = parsed_plan([lot(2, 3)])

    first = store_plan(runtime.db, plan)
    second = store_plan(runtime.db, plan)

    assert second.plan_id == first.plan_id
    assert not second.created
    assert count(runtime.db, Plan) == 1
    assert count(runtime.db, Lot) == 1


def test_changed_recipe_gets_new_version_and_warning(runtime):
    store_plan(runtime.db, parsed_plan([lot(2, 1)], name="a.xlsx"))

    changed = parsed_plan([lot(2, 1)], recipes=[recipe(1, co2_ppm=1200.0), recipe(2), recipe(3)], name="b.xlsx")
    stored = store_plan(runtime.db, changed)

    version_warnings = [warning for warning in stored.warnings if warning.field == "id"]
    assert len(version_warnings) == 1
    assert "stored as version 2" in version_warnings[0].message
    with runtime.db.session() as session:
        versions = session.execute(
            select(RecipeVersion.version, RecipeVersion.co2_ppm).where(RecipeVersion.recipe_id == 1)
        ).all()
    assert sorted(versions) == [(1, 900.0), (2, 1200.0)]


def test_batches_keep_the_version_they_were_given(runtime):
    first = store_plan(runtime.db, parsed_plan([lot(2, 2)], name="a.xlsx"))
    create_batches(runtime.db, first.lot_ids)
    store_plan(runtime.db, parsed_plan([lot(2, 1)], recipes=[recipe(1, co2_ppm=1500.0)], name="b.xlsx"))

    with runtime.db.session() as session:
        versions = session.scalars(
            select(RecipeVersion.version)
            .join(Batch, Batch.recipe_version_id == RecipeVersion.id)
            .where(Batch.plan_id == first.plan_id)
        ).all()
    assert versions == [1, 1]


def test_recipe_stored_earlier_can_be_referenced(runtime):
    store_plan(runtime.db, parsed_plan([lot(2, 1)], name="a.xlsx"))

    later = parsed_plan([lot(2, 2, default_recipe_id=3)], recipes=[], name="b.xlsx")
    stored = store_plan(runtime.db, later)
    create_batches(runtime.db, stored.lot_ids)

    with runtime.db.session() as session:
        recipe_ids = session.scalars(
            select(RecipeVersion.recipe_id)
            .join(Batch, Batch.recipe_version_id == RecipeVersion.id)
            .where(Batch.plan_id == stored.plan_id)
        ).all()
    assert recipe_ids == [3, 3]


@pytest.mark.parametrize("crop_count", [1, 4, 25])
def test_batches_follow_allocation_rule(runtime, crop_count):
    stored = store_plan(runtime.db, parsed_plan([lot(2, crop_count, default_recipe_id=1, recommended=(3, 2, 3))]))

    created = create_batches(runtime.db, stored.lot_ids)

    assert created == crop_count
    with runtime.db.session() as session:
        rows = session.execute(
            select(Batch.sequence, RecipeVersion.recipe_id, Batch.recipe_source)
            .join(RecipeVersion, RecipeVersion.id == Batch.recipe_version_id)
            .order_by(Batch.sequence)
        ).all()
    expected = [(3, "recommended"), (2, "recommended"), (3, "recommended")][:crop_count]
    expected += [(1, "default")] * (crop_count - len(expected))
    assert [(recipe_id, source) for _, recipe_id, source in rows] == expected
    assert [sequence for sequence, _, _ in rows] == list(range(1, crop_count + 1))


def test_create_batches_twice_creates_nothing_twice(runtime):
    stored = store_plan(runtime.db, parsed_plan([lot(2, 3), lot(3, 4)]))

    first = create_batches(runtime.db, stored.lot_ids)
    second = create_batches(runtime.db, stored.lot_ids)

    assert first == 7
    assert second == 0
    assert count(runtime.db, Batch) == 7


def test_rerun_after_lost_marker_inserts_no_duplicate(runtime):
    """A lot whose batches exist but whose marker is unset (a crash) is made whole, not doubled."""
    stored = store_plan(runtime.db, parsed_plan([lot(2, 5)]))
    create_batches(runtime.db, stored.lot_ids)
    with runtime.db.write_session() as session:
        session.execute(Lot.__table__.update().values(batches_created_at=None))
        session.execute(Batch.__table__.delete().where(Batch.sequence > 3))

    created = create_batches(runtime.db, stored.lot_ids)

    assert created == 2
    assert count(runtime.db, Batch) == 5
