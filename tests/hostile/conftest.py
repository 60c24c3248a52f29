"""Run the ``cropflow`` command against hostile input, each test with its own data directory.

Every helper here drives the real command line in a subprocess, so a crash
of the spreadsheet reader (a Rust abort) or a hang shows up as it would
for a user.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from tests.workbook.builders import RECOMMENDATIONS, SCHEDULE, Sheets, good_sheets

CLI = [sys.executable, "-m", "cropflow"]
AS_OF = "2027-12-01"
# The grow days of ``plan_sheets``: both after AS_OF.
FIRST_DAY = dt.date(2028, 1, 15)
SECOND_DAY = dt.date(2028, 1, 16)
# Batches of ``plan_sheets``: 5 on FIRST_DAY and 2 on SECOND_DAY.
PLAN_BATCHES = 7


def plan_sheets() -> Sheets:
    """Return a valid plan whose two lots fall after AS_OF.

    Row ``i`` of a sheet list is spreadsheet row ``i + 1``: the schedule's
    Basil Genovese lot is row 2 and its Kale lot row 3.
    """
    sheets = good_sheets()
    sheets[RECOMMENDATIONS][1][1] = FIRST_DAY
    sheets[SCHEDULE][1][2] = FIRST_DAY
    sheets[SCHEDULE][2][2] = SECOND_DAY
    return sheets


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def cli_env(data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CROPFLOW_")}
    env["CROPFLOW_DATA_DIR"] = str(data_dir)
    env["CROPFLOW_POLL_INTERVAL_S"] = "0.05"
    return env


def run_cropflow(
    args: Sequence[str], env: dict[str, str], *, timeout_s: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout_s, cwd=cwd, check=False
    )


def ingest_json(
    path: Path, env: dict[str, str], *extra: str, timeout_s: float = 120
) -> tuple[subprocess.CompletedProcess[str], dict]:
    """Run ``cropflow ingest PATH --json``; return the result and its report, which must be one JSON object."""
    result = run_cropflow(["ingest", str(path), "--json", "--as-of", AS_OF, *extra], env, timeout_s=timeout_s)
    assert result.stdout.strip(), f"no JSON report; exit status {result.returncode}; stderr:\n{stderr_excerpt(result)}"
    report = json.loads(result.stdout)
    assert isinstance(report, dict)
    return result, report


def stderr_excerpt(result: subprocess.CompletedProcess[str], chars: int = 1500) -> str:
    """Return the start and the end of a long stderr, where the error and its cause are."""
    if len(result.stderr) <= 2 * chars:
        return result.stderr
    return f"{result.stderr[:chars]}\n[...]\n{result.stderr[-chars:]}"


def assert_no_crash(result: subprocess.CompletedProcess[str]) -> None:
    """Check that the process ended by itself and printed no traceback or Rust panic."""
    assert result.returncode >= 0, f"killed by signal {-result.returncode}; stderr:\n{stderr_excerpt(result)}"
    assert "Traceback" not in result.stderr, stderr_excerpt(result)
    assert "panicked" not in result.stderr, stderr_excerpt(result)
    assert "memory allocation" not in result.stderr, stderr_excerpt(result)


def stored_counts(data_dir: Path) -> tuple[int, int, int]:
    """Return the rows in plans, lots and batches of the embedded database; zeros when it does not exist."""
    path = data_dir / "cropflow.db"
    if not path.exists():
        return (0, 0, 0)
    with sqlite3.connect(path) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "plans" not in tables:
            return (0, 0, 0)
        return tuple(  # type: ignore[return-value]
            connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in ("plans", "lots", "batches")
        )


def batches_json(env: dict[str, str], *filters: str) -> list[dict]:
    result = run_cropflow(["batches", "--json", *filters], env)
    assert result.returncode == 0, stderr_excerpt(result)
    return json.loads(result.stdout)


def status_json(env: dict[str, str]) -> list[dict]:
    result = run_cropflow(["status", "--json"], env)
    assert result.returncode == 0, stderr_excerpt(result)
    return json.loads(result.stdout)


def only_error(report: dict) -> dict:
    assert len(report["errors"]) == 1, report["errors"]
    return report["errors"][0]


def error_cells(report: dict) -> set[tuple[str | None, int | None, str | None]]:
    """Return the (sheet, row, column) of every error in a report."""
    return {(error["sheet"], error["row"], error["column"]) for error in report["errors"]}


def rewrite_member(source: Path, target: Path, member: str, transform: Callable[[bytes], bytes]) -> Path:
    """Copy a zip archive, passing the content of ``member`` through ``transform``."""
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in archive.infolist():
            content = archive.read(info.filename)
            if info.filename == member:
                content = transform(content)
            copy.writestr(info.filename, content)
    return target


def set_declared_size(path: Path, member: str, uncompressed_bytes: int) -> None:
    """Overwrite the uncompressed size that a zip member declares, in its local header and the central directory."""
    with zipfile.ZipFile(path) as archive:
        header_offset = archive.getinfo(member).header_offset
    data = bytearray(path.read_bytes())
    # Local file header: the uncompressed size sits at offset 22.
    struct.pack_into("<I", data, header_offset + 22, uncompressed_bytes)
    # Central directory entries: the name length at 28, the name at 46, the uncompressed size at 24.
    entry = data.find(b"PK\x01\x02")
    while entry != -1:
        name_length = struct.unpack_from("<H", data, entry + 28)[0]
        if bytes(data[entry + 46 : entry + 46 + name_length]).decode() == member:
            struct.pack_into("<I", data, entry + 24, uncompressed_bytes)
        entry = data.find(b"PK\x01\x02", entry + 4)
    path.write_bytes(bytes(data))
