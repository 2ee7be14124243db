import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_values_for_planungsraeume_latest_date(api, ewr_imported):
    data = api.get("/api/values/", {"variable": "E_E", "level": "planungsraum"}).json()
    assert data["date"] == "2024-12-31"
    rows = {r["code"]: r for r in data["results"]}
    assert len(rows) == 542
    assert rows["01100101"] == {
        "code": "01100101",
        "name": "Stülerstraße",
        "value": 3580.0,
        "status": "ok",
        "estimated": False,
        "incomplete": False,
        "aggregate": False,
        "contains_suppressed": False,
        "note": "",
    }
    assert (
        rows["03400831"]["status"] == "suppressed" and rows["03400831"]["value"] is None
    )


def test_values_for_berlin_and_explicit_date(api, ewr_imported):
    data = api.get(
        "/api/values/", {"variable": "E_E", "level": "berlin", "date": "2024-12-31"}
    ).json()
    assert data["results"][0]["value"] == 3_897_145
    assert data["results"][0]["incomplete"] is True


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"variable": "E_E", "level": "kiez"}, 400),
        ({"variable": "E_E", "level": "bezirk", "date": "31.12.2024"}, 400),
        ({"variable": "E_E", "level": "bezirk", "date": "2019-12-31"}, 400),
        ({"variable": "NOPE", "level": "bezirk"}, 404),
        ({"level": "bezirk"}, 400),
    ],
)
def test_bad_value_queries_are_client_errors(api, ewr_imported, params, status):
    response = api.get("/api/values/", params)
    assert response.status_code == status
    assert response.json()


def test_variable_catalogue_api(api, ewr_imported):
    data = api.get("/api/variables/", {"q": "insgesamt"}).json()
    keys = {v["key"] for v in data}
    assert "E_E" in keys
    e_e = next(v for v in data if v["key"] == "E_E")
    assert e_e["aggregation"] == "sum" and e_e["supplier"].startswith(
        "Amt für Statistik"
    )
    assert api.get("/api/variables/E_E/").json()["name"] == "Einwohner insgesamt"


def test_schema_lists_datapool_endpoints(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert {"/api/values/", "/api/variables/"} <= set(schema["paths"])
