"""Who sees amounts (staff only, pages and API) and who edits projects (audited)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from core.models import AuditEvent
from funding.models import EXAMPLE_NOTE, Project, ProjectAmount

pytestmark = pytest.mark.django_db

# A euro amount as the pages write it (German thousands separator), e.g. 45.000.
MONEY = re.compile(r"(?<![\d.])\d{1,3}(\.\d{3})+(?![\d.])")


def _project() -> Project:
    return Project.objects.get(district__code="01", number="MI-B-001")


def _pages():
    pk = _project().pk
    return [
        reverse("funding:steering"),
        reverse("funding:steering") + "?level=bezirk",
        reverse("funding:project-list"),
        reverse("funding:project-detail", kwargs={"pk": pk}),
    ]


def test_guest_sees_no_amounts_on_any_page(client, funding_examples, guest):
    client.force_login(guest)
    for url in _pages():
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert 'data-testid="amounts-hidden"' in html, url
        assert not MONEY.search(html.split("<main", 1)[1]), url
        assert "45.000" not in html and "45000" not in html
    for name, kwargs in [
        ("funding:chart", {"kind": "timeseries", "fmt": "svg"}),
        ("funding:chart", {"kind": "scatter", "fmt": "png"}),
        ("funding:report", {}),
    ]:
        response = client.get(reverse(name, kwargs=kwargs), {"bezirk": "01"})
        assert response.status_code == 403
        assert b"staff" in response.content or b"Mitarbeit" in response.content


def test_guest_gets_no_amounts_from_the_api(client, funding_examples, guest):
    client.force_login(guest)
    values = client.get(reverse("funding-api:values"), {"level": "bezirk"})
    assert values.status_code == 403
    assert "approved" not in values.content.decode()
    projects = client.get(reverse("funding-api:project-list"))
    assert projects.status_code == 200
    body = projects.json()
    assert body["amounts_visible"] is False
    assert body["projects"], "the projects themselves are listed"
    assert all("amounts" not in p for p in body["projects"])
    assert "45000" not in projects.content.decode()


def test_planner_sees_amounts_and_the_example_mark(client, funding_examples, user):
    client.force_login(user)
    html = client.get(reverse("funding:steering"), {"level": "bezirk"}).content.decode()
    assert EXAMPLE_NOTE in html
    # Mitte: 45 000 + 48 000 + 50 000 + 120 000 + 60 000 + 200 000 approved.
    assert "523.000" in html
    values = client.get(reverse("funding-api:values"), {"level": "bezirk"}).json()
    mitte = next(u for u in values["units"] if u["code"] == "01")
    assert mitte["approved"] == 523000.0
    assert values["example_data"] is True
    assert any("Beispieldaten" in s for s in values["sources"])
    projects = client.get(reverse("funding-api:project-list")).json()
    assert projects["projects"][0]["amounts"]


def test_report_pdf_and_xlsx_carry_amounts_and_the_example_mark(
    client, funding_examples, user
):
    import io

    from openpyxl import load_workbook

    client.force_login(user)
    xlsx = client.get(reverse("funding:report"), {"bezirk": "01", "format": "xlsx"})
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    sheet = book["Maßnahmen"]
    assert sheet["B1"].value == EXAMPLE_NOTE
    amounts = [row[12] for row in sheet.iter_rows(min_row=4, values_only=True)]
    assert sum(amounts) == 523000
    assert any(
        "Beispieldaten" in (r[1] or "")
        for r in book["Quellen"].iter_rows(values_only=True)
    )
    pdf = client.get(reverse("funding:report"), {"gebiet": "qm-soldiner-strasse"})
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert (
        AuditEvent.objects.filter(action="export", object_type="funding.report").count()
        == 2
    )
    bad = client.get(reverse("funding:report"), {"format": "xlsx"})
    assert bad.status_code == 400


def test_coordinator_edits_own_project_and_the_change_is_audited(
    client, funding_examples, coordinator01
):
    project = _project()
    client.force_login(coordinator01)
    response = client.post(
        reverse("funding:amount-set", kwargs={"pk": project.pk}),
        {"year": 2025, "approved": "1000", "paid": "250,5"},
    )
    assert response.status_code == 302
    amount = ProjectAmount.objects.get(project=project, year=2025)
    assert (amount.approved, float(amount.paid)) == (1000, 250.5)
    form = client.get(reverse("funding:project-update", kwargs={"pk": project.pk}))
    assert form.status_code == 200
    response = client.post(
        reverse("funding:project-update", kwargs={"pk": project.pk}),
        {
            "title": "Nachbarschaftstreff (neu)",
            "programme": project.programme_id,
            "area": project.area_id,
            "unit": "",
            "sponsor": project.sponsor,
            "field_of_action": project.field_of_action,
            "start": "2022-01-01",
            "end": "2024-12-31",
            "status": "completed",
        },
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.title == "Nachbarschaftstreff (neu)"
    events = AuditEvent.objects.filter(
        object_type="funding.project", object_id=str(project.pk)
    )
    assert events.count() == 2
    assert events.filter(
        action="change", details__title__new="Nachbarschaftstreff (neu)"
    ).exists()


def test_others_may_not_edit(client, funding_examples, user, lor_units):
    from core.access import Role
    from tests.support.login import user_with_role

    project = _project()
    url = reverse("funding:amount-set", kwargs={"pk": project.pk})
    data = {"year": 2025, "approved": "1", "paid": "0"}
    coordinator02 = user_with_role("koordination02", Role.COORDINATOR, "02")
    for someone in (user, coordinator02):
        client.force_login(someone)
        assert client.post(url, data).status_code == 403
        assert (
            client.get(
                reverse("funding:project-update", kwargs={"pk": project.pk})
            ).status_code
            == 403
        )
    assert not ProjectAmount.objects.filter(project=project, year=2025).exists()


def test_areas_api_gives_outlines_and_planungsraeume_to_every_reader(
    client, funding_examples, guest
):
    client.force_login(guest)
    body = client.get(reverse("funding-api:area-list"), {"district": "02"}).json()
    keys = {f["id"] for f in body["features"]}
    assert keys == {"qm-mehringplatz", "qm-wassertorplatz", "lz-frankfurter-allee"}
    wassertor = next(f for f in body["features"] if f["id"] == "qm-wassertorplatz")
    assert wassertor["properties"]["planungsraeume"] == ["02100104", "02100106"]
    assert wassertor["properties"]["example_data"] is True
    lon, lat = wassertor["geometry"]["coordinates"][0][0][0]
    assert 13.0 < lon < 13.8 and 52.3 < lat < 52.7  # EPSG:4326


@pytest.mark.parametrize(
    "query",
    [
        {"bezirk": "0\x001"},
        {"programm": "benn\x00"},
        {"gebiet": "x\x00"},
        {"bezirk": "99"},
        {"bezirk": "01", "programm": "benn"},
    ],
)
def test_report_answers_bad_scopes_with_a_german_400(
    client, funding_examples, user, query
):
    client.force_login(user)
    response = client.get(reverse("funding:report"), {**query, "format": "xlsx"})
    assert response.status_code == 400
    assert "Bezirk" in response.content.decode()


def test_steering_and_apis_survive_nul_and_nonsense(client, funding_examples, user):
    client.force_login(user)
    junk = {"level": "x\x00", "year": "\x00", "programme": "\x00", "district": "\x00"}
    assert client.get(reverse("funding:steering"), junk).status_code == 200
    assert client.get(reverse("funding:project-list"), junk).status_code == 200
    assert client.get(reverse("funding-api:values"), junk).status_code == 200
    assert client.get(reverse("funding-api:project-list"), junk).status_code == 200
    assert (
        client.get(reverse("funding-api:area-list"), {"district": "\x00"}).status_code
        == 400
    )
