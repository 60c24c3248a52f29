"""A small run of bench/run.py, so that the benchmark keeps working."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.distributed.conftest import require_service

BENCH = Path(__file__).resolve().parents[2] / "bench" / "run.py"
PHASES = [
    "hash file (SHA-256)", "read and validate", "store plan and lots", "create batches", "dispatch (confirmed)",
    "consume first day", "duplicate re-ingest", "end to end",
]


def run_bench(tmp_path, *args):
    out = tmp_path / "report.json"
    result = subprocess.run(
        [sys.executable, str(BENCH), "--batches", "2000", "--json", str(out), *args],
        capture_output=True, text=True, timeout=240, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result, json.loads(out.read_text())


@pytest.mark.timeout(300)
def test_small_embedded_benchmark_reports_every_phase(tmp_path):
    result, report = run_bench(tmp_path, "--mode", "embedded")

    assert report["batches_stored"] == 2000
    assert [phase["phase"] for phase in report["phases"]] == PHASES
    assert all(phase["seconds"] >= 0 for phase in report["phases"])
    assert report["phases"][-1]["floor_seconds"] > 0
    assert report["peak_rss_bytes"]["cropflow"] > 0
    assert report["first_day_batches"] > 0
    assert "end to end" in result.stdout.lower()


@pytest.mark.timeout(300)
def test_small_distributed_benchmark_reports_every_phase(tmp_path):
    require_service("PostgreSQL", 5432)
    require_service("RabbitMQ", 5672)

    _, report = run_bench(tmp_path, "--mode", "distributed", "--workers", "1")

    assert report["batches_stored"] == 2000
    assert report["workers"] == 1
    assert set(report["peak_rss_bytes"]) == {"cropflow", "worker 1"}
    assert report["first_day_batches"] > 0
