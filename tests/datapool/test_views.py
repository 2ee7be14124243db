import pytest

pytestmark = pytest.mark.django_db


def test_catalogue_search_and_filters(client_logged_in, ewr_imported):
    html = client_logged_in.get("/datapool/", {"q": "weiblich"}).content.decode()
    assert "Einwohner weiblich" in html and "Einwohner männlich" not in html
    html = client_logged_in.get("/datapool/", {"theme": "gruen"}).content.decode()
    assert "E_E" not in html
    html = client_logged_in.get("/datapool/", {"level": "bezirk"}).content.decode()
    assert "E_EM" in html


def test_variable_page_shows_metadata_coverage_and_chart(
    client_logged_in, ewr_imported
):
    html = client_logged_in.get("/datapool/variables/E_E/").content.decode()
    assert "Einwohner insgesamt" in html
    assert "540/542" in html  # shown of all Planungsräume on 31.12.2024
    assert "CC BY 3.0 DE" in html
    svg = client_logged_in.get("/datapool/variables/E_E/chart.svg")
    assert svg["Content-Type"] == "image/svg+xml"
    assert b"<svg" in svg.content


def test_import_page_shows_summary(client_logged_in, ewr_imported):
    html = client_logged_in.get(
        f"/datapool/imports/{ewr_imported.pk}/"
    ).content.decode()
    assert "23848" in html or "23.848" in html
    assert "E_E" in html


def test_unknown_variable_page_is_404(client_logged_in):
    assert client_logged_in.get("/datapool/variables/NOPE/").status_code == 404
