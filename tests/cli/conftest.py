"""Run the ``cropflow`` command in a subprocess against a test data directory."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence

import pytest

CLI = [sys.executable, "-m", "cropflow"]


@pytest.fixture
def cli_env(settings) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CROPFLOW_")}
    env["CROPFLOW_DATA_DIR"] = str(settings.data_dir)
    env["CROPFLOW_POLL_INTERVAL_S"] = "0.05"
    return env


def run_cli(args: Sequence[str], env: dict[str, str], *, timeout_s: float = 60, stdin: str | None = None):
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout_s, input=stdin, check=False
    )
