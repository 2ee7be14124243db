import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

UNITS_URL = "/api/lor/units/"


@pytest.fixture
def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("bezirk", 12),
        ("prognoseraum", 58),
        ("bezirksregion", 143),
        ("planungsraum", 542),
    ],
)
def test_units_per_level_as_feature_collection(api, level, expected):
    response = api.get(UNITS_URL, {"level": level})
    assert response.status_code == 200
    data = response.json()
    assert data["type"] == "FeatureCollection"
    assert len(data["features"]) == expected
    props = data["features"][0]["properties"]
    assert set(props) == {"code", "name", "level", "parent_code", "area_m2"}
    assert all(f["properties"]["level"] == level for f in data["features"])


def test_unit_geometry_is_in_wgs84(api):
    feature = api.get(UNITS_URL + "01100101/").json()
    assert feature["properties"] == {
        "code": "01100101",
        "name": "Stülerstraße",
        "level": "planungsraum",
        "parent_code": "011001",
        "area_m2": pytest.approx(feature["properties"]["area_m2"]),
    }
    lon, lat = feature["geometry"]["coordinates"][0][0][0]
    assert 13.0 < lon < 13.8 and 52.3 < lat < 52.7


def test_children_of_a_bezirk(api):
    data = api.get(UNITS_URL, {"parent": "01"}).json()
    assert {f["properties"]["code"] for f in data["features"]} == {
        "0110",
        "0120",
        "0130",
        "0140",
    }


def test_unknown_unit_is_404(api):
    assert api.get(UNITS_URL + "99999999/").status_code == 404


@pytest.mark.parametrize(
    "params", [{"level": "kiez"}, {"parent": "abc"}, {"parent": "1"}]
)
def test_bad_parameters_give_400_with_message(api, params):
    response = api.get(UNITS_URL, params)
    assert response.status_code == 400
    assert response.json()


def test_anonymous_access_is_refused():
    response = APIClient().get(UNITS_URL, {"level": "bezirk"})
    assert response.status_code in (401, 403)


def test_script_authenticates_with_token(user, capsys):
    call_command("drf_create_token", user.username)
    token = Token.objects.get(user=user).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get(UNITS_URL, {"level": "bezirk"})
    assert response.status_code == 200
    assert len(response.json()["features"]) == 12


def test_openapi_schema_documents_the_unit_endpoints(client_logged_in):
    response = client_logged_in.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert "/api/lor/units/" in schema["paths"]
    assert "/api/lor/units/{code}/" in schema["paths"]
    params = {
        p["name"] for p in schema["paths"]["/api/lor/units/"]["get"]["parameters"]
    }
    assert {"level", "parent"} <= params


def test_interactive_docs_are_served_without_cdn(client_logged_in):
    response = client_logged_in.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html
