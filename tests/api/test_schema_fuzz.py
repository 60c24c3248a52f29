"""Property-based tests generated from the app's OpenAPI schema by schemathesis.

Each operation in the schema (the GET endpoints and the upload) is called
in-process through ASGI, with parameters and bodies that match the schema
(positive) and that violate it (negative). No response may be a server
error (5xx).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from cropflow.api import create_app

# The committed copy of the schema lists the operations at collection time.
# test_reads.py fails when it differs from the served schema.
OPENAPI_FILE = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
MAX_EXAMPLES = 30


def operation_cases() -> list[tuple[str, GenerationMode]]:
    """Return (label, mode) pairs. Negative mode needs parameters or a body to make invalid."""
    cases = []
    for path, methods in json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))["paths"].items():
        for method, operation in methods.items():
            label = f"{method.upper()} {path}"
            cases.append((label, GenerationMode.POSITIVE))
            if operation.get("parameters") or "requestBody" in operation:
                cases.append((label, GenerationMode.NEGATIVE))
    return sorted(cases, key=lambda case: (case[0], case[1].value))


# NOTE: schemathesis 4.32's pytest plugin (schema.parametrize with
# from_fixture) fails under pytest 9 with "'Function' object has no attribute
# '_nodeid'", so each operation is run through its Hypothesis strategy here.
@pytest.mark.parametrize(
    ("label", "mode"), operation_cases(), ids=lambda value: value.value if isinstance(value, GenerationMode) else value
)
def test_operation_returns_no_server_error(settings, runtime, label, mode):
    app = create_app(settings, runtime=runtime)
    operation = schemathesis.openapi.from_asgi("/openapi.json", app).find_operation_by_label(label)
    assert operation is not None, f"{label} is in {OPENAPI_FILE.name} but not in the served schema"

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def call_operation(case):
        case.call_and_validate(checks=[not_a_server_error])

    call_operation()
