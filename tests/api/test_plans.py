import pytest
from sqlalchemy import func, select

from cropflow.api import create_app
from cropflow.store.tables import Batch, Lot, Plan
from tests.api.conftest import AS_OF, EXAMPLE, TOKEN, TestClient, upload
from tests.cli.test_ingest import broken_workbook


def table_counts(runtime):
    with runtime.db.session() as session:
        return tuple(session.scalar(select(func.count()).select_from(model)) for model in (Plan, Lot, Batch))


def test_upload_accepted_then_duplicate(client, runtime):
    first = upload(client, EXAMPLE)
    second = upload(client, EXAMPLE)

    assert first.status_code == 201, first.text
    report = first.json()
    assert report["status"] == "accepted"
    assert report["file"] == "crop_plan.xlsx"
    assert report["errors"] == []
    plans, _lots, batches = table_counts(runtime)
    assert report["batches"] == batches
    assert batches > 0
    assert second.status_code == 200, second.text
    assert second.json()["status"] == "duplicate"
    assert second.json()["plan_id"] == report["plan_id"]
    assert plans == 1


def test_upload_report_matches_cli_keys(client):
    report = upload(client, EXAMPLE).json()

    assert set(report) == {
        "status", "plan_id", "file", "dry_run", "lots", "batches", "errors", "warnings", "rejected_lots",
    }


def test_upload_dry_run_stores_nothing(client, runtime):
    response = upload(client, EXAMPLE, dry_run="true")

    assert response.status_code == 201, response.text
    assert response.json()["dry_run"] is True
    assert response.json()["plan_id"] is None
    assert table_counts(runtime) == (0, 0, 0)


def test_upload_broken_rejected_with_locations(client, runtime, tmp_path):
    response = upload(client, broken_workbook(tmp_path / "broken.xlsx"))

    assert response.status_code == 422, response.text
    report = response.json()
    assert report["status"] == "rejected"
    locations = {(error["sheet"], error["row"], error["column"]) for error in report["errors"]}
    assert ("crop schedule", 4, "B") in locations
    assert ("crop schedule", 5, "C") in locations
    assert ("crop schedule", 6, "D") in locations
    assert ("farms", 4, "C") in locations
    assert table_counts(runtime) == (0, 0, 0)


def test_upload_broken_partial_with_skip(client, tmp_path):
    response = upload(client, broken_workbook(tmp_path / "broken.xlsx"), skip_invalid_lots="true")

    assert response.status_code == 201, response.text
    assert response.json()["status"] == "partial"
    assert response.json()["lots"] == {"accepted": 2, "rejected": 12}


def test_upload_client_path_not_used(client):
    with EXAMPLE.open("rb") as workbook:
        response = client.post(
            "/api/plans",
            files={"file": ("../../etc/evil\\..\\plan.xlsx", workbook)},
            data={"as_of": AS_OF, "dry_run": "1"},
        )

    assert response.status_code == 201, response.text
    assert response.json()["file"] == "plan.xlsx"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [({"as_of": "2027-13-01"}, "as_of"), ({"dry_run": "maybe"}, "dry_run")],
)
def test_upload_invalid_field_422(client, fields, expected):
    response = upload(client, EXAMPLE, **fields)

    assert response.status_code == 422
    assert expected in response.json()["detail"]


def test_upload_missing_file_422(client):
    response = client.post("/api/plans", data={"as_of": AS_OF})

    assert response.status_code == 422
    assert "file" in response.json()["detail"]


def test_upload_over_limit_413(settings, runtime, tmp_path):
    big = tmp_path / "big.xlsx"
    big.write_bytes(b"x" * 200_000)
    with TestClient(create_app(settings, runtime=runtime, max_upload_bytes=1000)) as small_client:
        response = upload(small_client, big)

    assert response.status_code == 413
    assert "1000 bytes" in response.json()["detail"]
    assert table_counts(runtime) == (0, 0, 0)


def test_upload_chunked_over_limit_413(settings, runtime):
    boundary = "cropflowtest"
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.xlsx\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()

    def body():
        yield head
        for _ in range(100):
            yield b"x" * 10_000
        yield f"\r\n--{boundary}--\r\n".encode()

    with TestClient(create_app(settings, runtime=runtime, max_upload_bytes=1000)) as small_client:
        response = small_client.post(
            "/api/plans", content=body(), headers={"content-type": f"multipart/form-data; boundary={boundary}"}
        )

    assert response.status_code == 413
    assert table_counts(runtime) == (0, 0, 0)


def test_upload_without_token_401(token_client, runtime):
    response = upload(token_client, EXAMPLE)

    assert response.status_code == 401
    assert "Bearer" in response.json()["detail"]
    assert response.headers["www-authenticate"] == "Bearer"
    assert table_counts(runtime) == (0, 0, 0)


def test_upload_wrong_token_403(token_client, runtime):
    response = upload(token_client, EXAMPLE, headers={"Authorization": "Bearer wrong"})

    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid bearer token."}
    assert table_counts(runtime) == (0, 0, 0)


def test_repeated_wrong_tokens_get_429(token_client, runtime):
    from cropflow.api.auth import MAX_FAILED_ATTEMPTS

    statuses = [
        upload(token_client, EXAMPLE, headers={"Authorization": "Bearer wrong"}).status_code
        for _ in range(MAX_FAILED_ATTEMPTS + 1)
    ]
    right = upload(token_client, EXAMPLE, headers={"Authorization": f"Bearer {TOKEN}"})

    assert statuses == [403] * MAX_FAILED_ATTEMPTS + [429]
    assert right.status_code == 429
    assert right.headers["retry-after"] == "60"
    assert table_counts(runtime) == (0, 0, 0)


def test_upload_right_token_201(token_client):
    response = upload(token_client, EXAMPLE, headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 201, response.text


def test_upload_non_loopback_without_token_403(settings, runtime):
    with TestClient(create_app(settings, runtime=runtime, bind_host="0.0.0.0")) as open_client:
        response = upload(open_client, EXAMPLE)

    assert response.status_code == 403
    assert table_counts(runtime) == (0, 0, 0)


def test_reads_need_no_token(token_client):
    assert token_client.get("/api/plans").status_code == 200


def test_plans_list_and_detail(client):
    plan_id = upload(client, EXAMPLE).json()["plan_id"]

    plans = client.get("/api/plans").json()
    detail = client.get(f"/api/plans/{plan_id}", params={"limit": 1000}).json()

    assert [plan["plan_id"] for plan in plans] == [plan_id]
    assert detail["plan_id"] == plan_id
    assert isinstance(detail["warnings"], list)
    assert isinstance(detail["rejected_lot_details"], list)
    assert detail["lot_page"]["total"] == len(detail["lot_details"]) == plans[0]["lots"]
    assert sum(len(lot["recipe_sequence"]) for lot in detail["lot_details"]) == plans[0]["batches"]
    for lot in detail["lot_details"]:
        sequence = lot["recipe_sequence"]
        assert [step["sequence"] for step in sequence] == list(range(1, lot["crop_count"] + 1))
        assert {step["source"] for step in sequence} <= {"recommended", "default"}
        assert all(set(step) == {"sequence", "recipe_id", "recipe_version", "source"} for step in sequence)


def test_plan_detail_lot_paging(client):
    plan_id = upload(client, EXAMPLE).json()["plan_id"]

    first = client.get(f"/api/plans/{plan_id}", params={"limit": 2}).json()
    second = client.get(f"/api/plans/{plan_id}", params={"limit": 2, "offset": 2}).json()

    assert len(first["lot_details"]) == 2
    assert first["lot_details"][0]["lot_id"] != second["lot_details"][0]["lot_id"]


def test_plan_detail_unknown_404(client):
    response = client.get("/api/plans/999")

    assert response.status_code == 404
    assert response.json() == {"detail": "Plan 999 not found."}
