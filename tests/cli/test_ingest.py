import datetime as dt
import json
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest
import xlsxwriter
from sqlalchemy import func, select

from cropflow.store.tables import Batch, Lot, Plan
from tests.cli.conftest import run_cli

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "crop_plan.xlsx"
AS_OF = "2027-12-01"


def ingest(path, env, *extra):
    result = run_cli(["ingest", str(path), "--json", "--as-of", AS_OF, *extra], env)
    assert result.stdout, result.stderr
    return result, json.loads(result.stdout)


def table_counts(runtime):
    with runtime.db.session() as session:
        return tuple(session.scalar(select(func.count()).select_from(model)) for model in (Plan, Lot, Batch))


def read_schedule(path):
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    rows = workbook.get_sheet_by_name("crop schedule").to_python()[1:]
    recommendations = {
        (name, day): [int(part) for part in str(ids).split(",")]
        for name, day, ids in workbook.get_sheet_by_name("recipe_recommendations").to_python()[1:]
    }
    return rows, recommendations


def test_example_plan_is_accepted_then_duplicate(runtime, cli_env):
    first_result, first = ingest(EXAMPLE, cli_env)
    second_result, second = ingest(EXAMPLE, cli_env)

    schedule, _ = read_schedule(EXAMPLE)
    crop_total = sum(int(row[1]) for row in schedule)
    assert first_result.returncode == 0
    assert first["status"] == "accepted"
    assert first["errors"] == []
    assert first["lots"] == {"accepted": len(schedule), "rejected": 0}
    assert first["batches"] == crop_total
    assert second_result.returncode == 0
    assert second["status"] == "duplicate"
    assert second["plan_id"] == first["plan_id"]
    assert second["batches"] == crop_total
    assert table_counts(runtime) == (1, len(schedule), crop_total)


def test_example_plan_batches_follow_allocation_rule(runtime, cli_env):
    _, report = ingest(EXAMPLE, cli_env)
    listing = run_cli(["batches", "--plan", str(report["plan_id"]), "--json"], cli_env)
    batches = json.loads(listing.stdout)

    schedule, recommendations = read_schedule(EXAMPLE)
    assert len(batches) == sum(int(row[1]) for row in schedule)
    by_lot = defaultdict(list)
    for batch in batches:
        by_lot[batch["lot_id"]].append(batch)
    lots_in_row_order = [by_lot[lot_id] for lot_id in sorted(by_lot)]
    for (name, count, day, farm_id, default_recipe), lot_batches in zip(schedule, lots_in_row_order, strict=True):
        lot_batches.sort(key=lambda batch: batch["sequence"])
        recommended = recommendations.get((name, day), [])
        expected = [(r, "recommended") for r in recommended[: int(count)]]
        expected += [(int(default_recipe), "default")] * (int(count) - len(expected))
        assert [(b["recipe_id"], b["recipe_source"]) for b in lot_batches] == expected
        assert [b["sequence"] for b in lot_batches] == list(range(1, int(count) + 1))
        assert {b["scheduled_date"] for b in lot_batches} == {day.isoformat()}
        assert {b["farm_id"] for b in lot_batches} == {int(farm_id)}
        assert {b["cultivar"] for b in lot_batches} == {name}
        assert {b["status"] for b in lot_batches} == {"dispatched"}


def write_workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        for row_index, row in enumerate(rows):
            for column_index, value in enumerate(row):
                if isinstance(value, dt.date):
                    sheet.write_datetime(row_index, column_index, dt.datetime.combine(value, dt.time()), date_format)
                elif value is not None:
                    sheet.write(row_index, column_index, value)
    workbook.close()
    return path


DAY = dt.date(2028, 2, 1)
RECIPE_HEADER = ["id", "name", "light_intensity", "lights_on", "lights_off", "co2_ppm", "temperature_c"]
SCHEDULE_HEADER = ["cultivar_name", "crop_count", "date", "farm_id", "default_recipe"]


def broken_workbook(path: Path) -> Path:
    """A workbook with problems in every sheet; only its last two schedule rows are clean."""
    return write_workbook(
        path,
        {
            "recipes": [
                RECIPE_HEADER,
                [1, "Leafy", 250, 16, 8, 900, 21],
                [2, "Basil", 280, 18, 6, 1000, 24],
                [3, "Broken", -5, 16, 8, 900, 20],  # D4... light_intensity negative: C4
                [3, "Twin", 200, 16, 8, 900, 20],  # duplicate id 3
                [4, "Bad light", 250, "long", 8, 900, 20],  # lights_on text: D6
            ],
            "crop schedule": [
                SCHEDULE_HEADER,
                ["Basil Genovese", 4, DAY, 1, 2],
                ["Kale", 2, DAY, 2, 1],
                ["Lettuce", 2.5, DAY, 1, 1],  # fractional count: B4
                ["Arugula", 3, "next week", 1, 1],  # bad date text: C5
                ["Spinach", 3, DAY, 99, 1],  # unknown farm: D6
                ["Mizuna", 3, DAY, 1, 42],  # unknown recipe: E7
                [None, 3, DAY, 1, 1],  # missing cultivar: A8
                ["Chard", 20000, DAY, 1, 1],  # over the crop limit: B9
                ["Pea Shoots", 3, dt.date(2027, 1, 1), 1, 1],  # before as-of: C10
                ["Cilantro", 2, 46790, 1, 1],  # plain number as date: C11
                ["Radish", 2, DAY, 3, 1],  # farm 3 has an invalid time zone
                ["Thai Basil", 2, DAY, 1, 3],  # recipe 3 is duplicated
                ["Romaine", 3, DAY, 1, 1],
                ["Pak Choi", 2, DAY, 2, 2],
            ],
            "recipe_recommendations": [
                ["cultivar_name", "valid_for_date", "recipe_ids"],
                ["Basil Genovese", DAY, "1, 2"],
                ["Basil Genovese", DAY, "2"],  # duplicate key
                ["Kale", DAY, "1, 77"],  # unknown recipe 77
            ],
            "farms": [
                ["id", "name", "timezone"],
                [1, "Compton", "America/Los_Angeles"],
                [2, "Kearny", "America/New_York"],
                [3, "Nowhere", "Mars/Olympus_Mons"],  # invalid time zone: C4
            ],
        },
    )


def located(problems):
    return {(p["sheet"], p["row"], p["column"]) for p in problems}


def test_broken_workbook_reports_every_problem_and_stores_nothing(runtime, cli_env, tmp_path):
    path = broken_workbook(tmp_path / "broken.xlsx")

    result, report = ingest(path, cli_env)

    assert result.returncode == 1
    assert report["status"] == "rejected"
    assert report["plan_id"] is None
    expected = {
        ("recipes", 4, "C"),
        ("recipes", 5, "A"),
        ("recipes", 6, "D"),
        ("crop schedule", 4, "B"),
        ("crop schedule", 5, "C"),
        ("crop schedule", 6, "D"),
        ("crop schedule", 7, "E"),
        ("crop schedule", 8, "A"),
        ("crop schedule", 9, "B"),
        ("crop schedule", 10, "C"),
        ("crop schedule", 11, "C"),
        ("recipe_recommendations", 3, "B"),
        ("recipe_recommendations", 4, "C"),
        ("farms", 4, "C"),
    }
    assert expected <= located(report["errors"])
    assert table_counts(runtime) == (0, 0, 0)


def test_skip_invalid_lots_stores_clean_lots_and_exits_1(runtime, cli_env, tmp_path):
    path = broken_workbook(tmp_path / "broken.xlsx")

    result, report = ingest(path, cli_env, "--skip-invalid-lots")

    assert result.returncode == 1
    assert report["status"] == "partial"
    assert report["lots"] == {"accepted": 2, "rejected": 12}
    assert report["plan_id"] is not None
    assert [lot["row"] for lot in report["rejected_lots"]] == list(range(2, 14))
    assert report["batches"] == 5
    assert table_counts(runtime) == (1, 2, 5)


def test_dry_run_stores_nothing(runtime, cli_env):
    result, report = ingest(EXAMPLE, cli_env, "--dry-run")

    assert result.returncode == 0
    assert report["status"] == "accepted"
    assert report["dry_run"] is True
    assert report["plan_id"] is None
    assert table_counts(runtime) == (0, 0, 0)


def test_zip_bomb_is_rejected_quickly(runtime, cli_env, tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(EXAMPLE) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in source.infolist():
            if item.filename == "xl/worksheets/sheet2.xml":
                continue
            bomb.writestr(item, source.read(item.filename))
        # 300 MiB of one byte repeated deflates to about 300 KiB.
        with bomb.open("xl/worksheets/sheet2.xml", "w", force_zip64=True) as member:
            chunk = b" " * (1 << 20)
            for _ in range(300):
                member.write(chunk)

    result, report = ingest(path, cli_env)

    assert result.returncode == 1
    assert report["status"] == "rejected"
    assert any("uncompressed" in problem["message"] or "ratio" in problem["message"] for problem in report["errors"])
    assert table_counts(runtime) == (0, 0, 0)


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"", "empty"), (b"%PDF-1.7\n", "PDF"), (b"cultivar_name,crop_count\nBasil,3\n", "text")],
)
def test_non_spreadsheet_is_rejected_without_traceback(runtime, cli_env, tmp_path, content, expected):
    path = tmp_path / "plan.xlsx"
    path.write_bytes(content)

    result, report = ingest(path, cli_env)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert report["status"] == "rejected"
    assert expected.lower() in report["errors"][0]["message"].lower()
    assert "plan.xlsx" in report["errors"][0]["message"]


def test_unreachable_database_exits_3(cli_env):
    cli_env["CROPFLOW_DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/cropflow"

    result = run_cli(["ingest", str(EXAMPLE), "--json", "--as-of", AS_OF], cli_env)

    assert result.returncode == 3
    assert "unreachable" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_file_is_usage_error(cli_env, tmp_path):
    result = run_cli(["ingest", str(tmp_path / "nope.xlsx")], cli_env)

    assert result.returncode == 2


def test_resaved_workbook_warns_that_lots_repeat(runtime, cli_env, tmp_path):
    import openpyxl

    resaved = tmp_path / "resaved.xlsx"
    workbook = openpyxl.load_workbook(EXAMPLE)
    workbook.save(resaved)
    _, first = ingest(EXAMPLE, cli_env)

    _, second = ingest(resaved, cli_env)

    assert second["status"] == "accepted"
    assert second["plan_id"] != first["plan_id"]
    repeats = [warning for warning in second["warnings"] if "repeat lots of plan" in warning["message"]]
    assert len(repeats) == 1
    assert repeats[0]["message"].startswith(f"{first['lots']['accepted']} lots repeat lots of plan {first['plan_id']}")
