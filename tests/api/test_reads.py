import json
import re
from pathlib import Path

from cropflow.api.auth import check_serve_security, is_loopback_host
from cropflow.store.tables import Farm
from tests.api.conftest import EXAMPLE, upload

STATIC = Path(__file__).resolve().parents[2] / "src" / "cropflow" / "api" / "static"
OPENAPI_FILE = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def ingest_example(client) -> dict:
    response = upload(client, EXAMPLE)
    assert response.status_code == 201, response.text
    return response.json()


def test_batches_paging(client):
    report = ingest_example(client)

    first = client.get("/api/batches", params={"plan": report["plan_id"], "limit": 5}).json()
    second = client.get("/api/batches", params={"plan": report["plan_id"], "limit": 5, "offset": 5}).json()
    everything = client.get("/api/batches", params={"limit": 1000}).json()

    assert len(first) == 5
    assert len(second) == 5
    assert [batch["batch_id"] for batch in first + second] == [batch["batch_id"] for batch in everything[:10]]
    assert len(everything) == min(report["batches"], 1000)


def test_batches_default_limit_100(client):
    report = ingest_example(client)

    batches = client.get("/api/batches").json()

    assert len(batches) == min(report["batches"], 100)


def test_batches_filters(client):
    ingest_example(client)
    sample = client.get("/api/batches", params={"limit": 1}).json()[0]

    filtered = client.get(
        "/api/batches",
        params={"date": sample["scheduled_date"], "farm": sample["farm_id"], "cultivar": sample["cultivar"].upper(),
                "status": sample["status"], "limit": 1000},
    ).json()

    assert filtered
    assert {batch["scheduled_date"] for batch in filtered} == {sample["scheduled_date"]}
    assert {batch["farm_id"] for batch in filtered} == {sample["farm_id"]}
    assert {batch["cultivar"] for batch in filtered} == {sample["cultivar"]}


def test_batches_limit_over_max_422(client):
    response = client.get("/api/batches", params={"limit": 1001})

    assert response.status_code == 422
    assert "limit" in response.json()["detail"]


def test_batches_invalid_status_422(client):
    response = client.get("/api/batches", params={"status": "lost"})

    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str)


def test_calendar_counts_sum_to_batches(client):
    report = ingest_example(client)

    calendar = client.get("/api/calendar", params={"plan": report["plan_id"]}).json()

    assert sum(cell["batches"] for cell in calendar["cells"]) == report["batches"]
    for cell in calendar["cells"]:
        assert sum(item["batches"] for item in cell["cultivars"]) == cell["batches"]
        assert sum(item["batches"] for item in cell["recipes"]) == cell["batches"]
    assert {farm["farm_id"] for farm in calendar["farms"]} == {cell["farm_id"] for cell in calendar["cells"]}


def test_calendar_range_limits_days(client):
    report = ingest_example(client)
    cells = client.get("/api/calendar", params={"plan": report["plan_id"]}).json()["cells"]
    day = cells[0]["date"]

    one_day = client.get("/api/calendar", params={"plan": report["plan_id"], "from": day, "to": day}).json()

    assert {cell["date"] for cell in one_day["cells"]} == {day}
    assert sum(cell["batches"] for cell in one_day["cells"]) == sum(
        cell["batches"] for cell in cells if cell["date"] == day
    )


def test_calendar_reversed_range_422(client):
    response = client.get("/api/calendar", params={"from": "2028-02-01", "to": "2028-01-01"})

    assert response.status_code == 422


def test_status_per_date(client):
    report = ingest_example(client)

    rows = client.get("/api/status").json()

    assert sum(row["total"] for row in rows) == report["batches"]
    assert sum(row["queue_depth"] for row in rows) == report["batches"]
    assert set(rows[0]) == {"date", "queue_depth", "dead_lettered", "total", "by_status"}
    assert client.get("/api/status", params={"since": "2999-01-01"}).json() == []


def test_farms_listed(client, runtime):
    ingest_example(client)

    farms = client.get("/api/farms").json()

    with runtime.db.session() as session:
        stored = session.query(Farm).count()
    assert len(farms) == stored
    assert set(farms[0]) == {"farm_id", "name", "timezone"}


def test_database_unavailable_503(client, runtime, monkeypatch):
    from cropflow.errors import StoreUnavailableError

    def unavailable(*args, **kwargs):
        raise StoreUnavailableError("The database at sqlite:///x cannot be reached.")

    monkeypatch.setattr("cropflow.store.queries.list_plans", unavailable)

    response = client.get("/api/plans")

    assert response.status_code == 503
    assert response.json() == {"detail": "The database at sqlite:///x cannot be reached."}


def test_unexpected_error_500_json(settings, runtime, monkeypatch):
    from cropflow.api import create_app
    from tests.api.conftest import TestClient

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("cropflow.store.queries.list_plans", broken)

    with TestClient(create_app(settings, runtime=runtime), raise_server_exceptions=False) as test_client:
        response = test_client.get("/api/plans")

    assert response.status_code == 500
    assert "error id" in response.json()["detail"]
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text


def test_page_served_with_local_assets(client):
    page = client.get("/")
    plan_page = client.get("/plans/3")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert plan_page.text == page.text
    assets = [link for link in re.findall(r'(?:src|href)="([^"]+)"', page.text) if not link.startswith("#")]
    assert "/static/app.js" in assets
    assert "/static/style.css" in assets
    for asset in assets:
        assert asset.startswith("/static/"), asset
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert "http://" not in response.text, asset
        assert "https://" not in response.text, asset
    assert "http://" not in page.text
    assert "https://" not in page.text


def test_page_script_avoids_inner_html():
    script = (STATIC / "app.js").read_text()

    assert "innerHTML" not in script
    assert "insertAdjacentHTML" not in script


def test_serve_rejects_public_host_without_token():
    message = check_serve_security("0.0.0.0", None)

    assert message is not None
    assert "CROPFLOW_API_TOKEN" in message
    assert check_serve_security("0.0.0.0", "token") is None
    assert check_serve_security("127.0.0.1", None) is None
    assert check_serve_security("::1", "") is None


def test_loopback_hosts():
    assert is_loopback_host("localhost")
    assert is_loopback_host("127.0.0.2")
    assert is_loopback_host("[::1]")
    assert not is_loopback_host("0.0.0.0")
    assert not is_loopback_host("::")
    assert not is_loopback_host("192.168.1.5")
    assert not is_loopback_host("example.org")


def test_openapi_file_current(client):
    served = client.get("/openapi.json").json()

    committed = json.loads(OPENAPI_FILE.read_text()) if OPENAPI_FILE.exists() else None

    assert committed == served, (
        "docs/openapi.json differs from the app's schema; regenerate it with "
        "python -m cropflow.api.schema docs/openapi.json"
    )
