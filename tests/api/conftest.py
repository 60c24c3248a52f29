"""A TestClient on an app over the embedded test database."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from cropflow.api import create_app

# NOTE: Starlette 1.10 warns that its TestClient prefers the httpx2 package,
# and pytest turns warnings into errors. The venv has httpx only.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "crop_plan.xlsx"
AS_OF = "2027-12-01"
TOKEN = "test-token-5f2c"


@pytest.fixture
def client(settings, runtime) -> Iterator[TestClient]:
    with TestClient(create_app(settings, runtime=runtime)) as test_client:
        yield test_client


@pytest.fixture
def token_client(settings, runtime) -> Iterator[TestClient]:
    with TestClient(create_app(settings, api_token=TOKEN, runtime=runtime)) as test_client:
        yield test_client


def upload(client: TestClient, path: Path, *, headers: dict[str, str] | None = None, **fields: str):
    data = {"as_of": AS_OF, **fields}
    with path.open("rb") as workbook:
        return client.post("/api/plans", files={"file": (path.name, workbook)}, data=data, headers=headers or {})
