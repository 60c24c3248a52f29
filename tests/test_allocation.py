from cropflow.allocation import allocate_recipes


def test_recommended_recipes_come_first_then_default():
    allocation = allocate_recipes(5, [7, 3], 1)

    assert allocation == [(7, "recommended"), (3, "recommended"), (1, "default"), (1, "default"), (1, "default")]


def test_recommendations_beyond_crop_count_are_unused():
    allocation = allocate_recipes(2, [7, 3, 9, 4], 1)

    assert allocation == [(7, "recommended"), (3, "recommended")]


def test_no_recommendations_gives_default_to_all():
    assert allocate_recipes(3, [], 5) == [(5, "default")] * 3


def test_allocation_never_drops_a_crop():
    for crop_count in range(1, 30):
        for length in range(12):
            assert len(allocate_recipes(crop_count, list(range(length)), -1)) == crop_count
