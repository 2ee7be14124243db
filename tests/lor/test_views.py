import pytest

pytestmark = pytest.mark.django_db


def test_map_requires_login(client):
    response = client.get("/map/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_login_page_is_german_by_default(client):
    html = client.get("/accounts/login/").content.decode()
    assert '<html lang="de">' in html
    assert "Anmelden" in html and "Passwort" in html


def test_english_can_be_chosen(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    html = client.get("/accounts/login/").content.decode()
    assert '<html lang="en">' in html
    assert "Password" in html


def test_map_page_offers_levels_and_no_cdn(client_logged_in):
    html = client_logged_in.get("/map/").content.decode()
    assert "Bezirksregion" in html and "Planungsraum" in html
    assert "leaflet" in html.lower()
    assert "unpkg.com" not in html and "tile.openstreetmap" not in html
    assert "dl-de/by-2-0" in html  # attribution of the Geoportal data


def test_unit_page_shows_name_key_parent_children_area(client_logged_in):
    html = client_logged_in.get("/lor/011001/").content.decode()
    assert "Tiergarten Süd" in html
    assert "011001" in html
    assert "Zentrum (0110)" in html  # parent Prognoseraum
    assert "01100101" in html and "Stülerstraße" in html  # a child
    assert "km²" in html


def test_berlin_page_lists_the_twelve_bezirke(client_logged_in):
    html = client_logged_in.get("/lor/11000000/").content.decode()
    assert "Bezirk (12)" in html
    assert "Reinickendorf" in html


def test_unknown_unit_page_is_404(client_logged_in):
    assert client_logged_in.get("/lor/12345678/").status_code == 404


def test_health_check_needs_no_login(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True}
