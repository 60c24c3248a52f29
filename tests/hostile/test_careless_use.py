"""Careless command lines and settings: each must end with a usage error or one clear line, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.hostile.conftest import (
    AS_OF,
    FIRST_DAY,
    PLAN_BATCHES,
    assert_no_crash,
    ingest_json,
    plan_sheets,
    run_cropflow,
    status_json,
    stored_counts,
)
from tests.workbook.builders import write_xlsx

EXIT_USAGE = 2


@pytest.fixture
def plan_xlsx(tmp_path: Path) -> Path:
    return write_xlsx(tmp_path / "plan.xlsx", plan_sheets())


@pytest.fixture
def ingested(plan_xlsx, cli_env) -> Path:
    result, report = ingest_json(plan_xlsx, cli_env)
    assert report["status"] == "accepted", result.stderr
    return plan_xlsx


@pytest.mark.parametrize("as_of", ["garbage", "2027-02-30", "", "2027-12-01T10:00", "27-12-01"])
def test_invalid_as_of_is_usage_error(plan_xlsx, cli_env, data_dir, as_of):
    result = run_cropflow(["ingest", str(plan_xlsx), "--json", "--as-of", as_of], cli_env)

    assert_no_crash(result)
    assert result.returncode == EXIT_USAGE
    assert "--as-of" in result.stderr
    assert stored_counts(data_dir) == (0, 0, 0)


def test_missing_data_dir_is_created(plan_xlsx, cli_env, tmp_path):
    nested = tmp_path / "a" / "b" / "c"
    cli_env["CROPFLOW_DATA_DIR"] = str(nested)

    result, report = ingest_json(plan_xlsx, cli_env)

    assert result.returncode == 0
    assert report["batches"] == PLAN_BATCHES
    assert (nested / "cropflow.db").is_file()


@pytest.mark.parametrize("relative", ["file", "file/below"])
def test_data_dir_file_is_one_line_error(plan_xlsx, cli_env, tmp_path, relative):
    (tmp_path / "file").write_text("not a folder")
    cli_env["CROPFLOW_DATA_DIR"] = str(tmp_path / relative)

    result = run_cropflow(["ingest", str(plan_xlsx), "--json", "--as-of", AS_OF], cli_env)

    assert_no_crash(result)
    assert result.returncode == EXIT_USAGE
    assert json.loads(result.stdout)["status"] == "error"
    assert "CROPFLOW_DATA_DIR" in result.stderr


def test_read_only_database_is_one_line_error(plan_xlsx, cli_env, data_dir):
    assert run_cropflow(["status"], cli_env).returncode == 0
    cli_env["CROPFLOW_DATABASE_URL"] = f"sqlite:///file:{data_dir / 'cropflow.db'}?mode=ro&uri=true"

    result = run_cropflow(["ingest", str(plan_xlsx), "--json", "--as-of", AS_OF], cli_env)

    assert_no_crash(result)
    assert result.returncode != 0
    assert json.loads(result.stdout)["status"] == "error"
    assert "readonly" in result.stderr
    assert stored_counts(data_dir) == (0, 0, 0)


def test_non_database_file_is_one_line_error(plan_xlsx, cli_env, data_dir):
    data_dir.mkdir()
    (data_dir / "cropflow.db").write_text("hello, not SQLite")

    result = run_cropflow(["ingest", str(plan_xlsx), "--json", "--as-of", AS_OF], cli_env)

    assert_no_crash(result)
    assert result.returncode != 0
    assert json.loads(result.stdout)["status"] == "error"


@pytest.mark.parametrize("lease_s", ["-1", "nan", "inf", "1e300"])
def test_invalid_lease_setting_is_usage_error(ingested, cli_env, lease_s):
    """A lease that is negative, not a number or too long to add to a date is an invalid setting."""
    cli_env["CROPFLOW_LEASE_S"] = lease_s

    result = run_cropflow(["consume", FIRST_DAY.isoformat(), "--until-empty", "--json"], cli_env)

    assert_no_crash(result)
    assert result.returncode == EXIT_USAGE
    assert "lease" in result.stderr.lower()
    assert sum(row["queue_depth"] for row in status_json({**cli_env, "CROPFLOW_LEASE_S": "300"})) == PLAN_BATCHES


@pytest.mark.parametrize(
    ("variable", "value", "command"),
    [
        ("CROPFLOW_POLL_INTERVAL_S", "-1", "consume"),
        ("CROPFLOW_MAX_DELIVERIES", "-1", "consume"),
        ("CROPFLOW_DISPATCH_CHUNK_SIZE", "0", "ingest"),
        ("CROPFLOW_MAX_COMPRESSION_RATIO", "nan", "ingest"),
    ],
)
def test_out_of_range_setting_is_usage_error(plan_xlsx, cli_env, variable, value, command):
    """Each of these is accepted today and breaks quietly.

    A negative poll interval spins the CPU, -1 deliveries dead-letters every
    failed batch at once, a dispatch chunk of 0 leaves every batch
    undispatched and a NaN ratio turns the zip-bomb check off.
    """
    cli_env[variable] = value
    if command == "ingest":
        args = ["ingest", str(plan_xlsx), "--json", "--as-of", AS_OF]
    else:
        args = ["consume", FIRST_DAY.isoformat(), "--until-empty", "--json"]

    result = run_cropflow(args, cli_env)

    assert_no_crash(result)
    assert result.returncode == EXIT_USAGE
    assert variable.removeprefix("CROPFLOW_").lower() in result.stderr.lower()


@pytest.mark.parametrize("prefetch", ["1000000000", "99999999999999999999"])
def test_huge_prefetch_is_handled_cleanly(ingested, cli_env, prefetch):
    result = run_cropflow(
        ["consume", FIRST_DAY.isoformat(), "--until-empty", "--json", "--prefetch", prefetch], cli_env
    )

    assert_no_crash(result)
    if result.returncode == 0:
        assert len(result.stdout.splitlines()) == 5
    else:
        assert result.returncode == EXIT_USAGE


@pytest.mark.parametrize(
    "args",
    [
        ["batches", "--plan", str(2**70), "--json"],
        ["batches", "--farm", str(2**63), "--json"],
        ["batches", "--limit", str(2**70), "--json"],
        ["farms", "add", str(2**63), "Compton"],
    ],
    ids=["batches-plan", "batches-farm", "batches-limit", "farms-add"],
)
def test_huge_number_option_is_usage_error(cli_env, args):
    result = run_cropflow(args, cli_env)

    assert_no_crash(result)
    assert result.returncode == EXIT_USAGE


def test_unknown_broker_scheme_is_one_line_error(plan_xlsx, cli_env, data_dir):
    cli_env["CROPFLOW_BROKER_URL"] = "garbage://127.0.0.1"

    result = run_cropflow(["ingest", str(plan_xlsx), "--json", "--as-of", AS_OF], cli_env)

    assert_no_crash(result)
    assert result.returncode in (EXIT_USAGE, 3)
    assert json.loads(result.stdout)["status"] == "error"


def test_example_plan_past_9999_is_usage_error(cli_env, tmp_path):
    result = run_cropflow(
        ["example-plan", str(tmp_path / "plan.xlsx"), "--start", "9999-12-25", "--days", "30"], cli_env
    )

    assert_no_crash(result)
    assert result.returncode == EXIT_USAGE
