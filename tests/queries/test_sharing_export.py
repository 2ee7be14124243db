"""Saved queries shared as they say, names before keys, the pinned answer as a file."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from openpyxl import load_workbook
from rest_framework.test import APIClient

from core.access import Role
from queries.models import SavedQuery
from queries.selectors import saved_query_list
from queries.services import saved_query_create, saved_query_pin
from tests.conftest import SHARED_DATA
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PLR_E_E = {"level": "planungsraum", "columns": ["E_E"], "date": None}
EXCEL_TEXT_MARK = "\u2060"


def _user(name: str, role: Role, code: str | None):
    return UserFactory(username=name, role=role, bezirk_code=code)


@pytest.fixture
def district02_query(ewr_imported):
    owner = _user("planer02a", Role.PLANNER, "02")
    return saved_query_create(
        owner=owner,
        title="Kinder in Friedrichshain-Kreuzberg",
        inquiry_reference="BVV-Anfrage 0815/XXI",
        selection=PLR_E_E,
        sharing=SavedQuery.Sharing.DISTRICT,
        district=owner.staff_profile.bezirk,
    )


def _sees(user, query) -> tuple[int, int, int, bool]:
    """Status of page, API detail and API result, and whether the list holds it."""
    from django.test import Client

    page = Client()
    page.force_login(user)
    api = APIClient()
    api.force_authenticate(user)
    return (
        page.get(f"/queries/{query.pk}/").status_code,
        api.get(f"/api/queries/{query.pk}/").status_code,
        api.get(f"/api/queries/{query.pk}/result/").status_code,
        query in saved_query_list(user=user),
    )


@pytest.mark.parametrize(
    ("role", "code", "expected"),
    [
        (Role.PLANNER, "02", (200, 200, 200, True)),
        (Role.COORDINATOR, "02", (200, 200, 200, True)),
        (Role.ADMIN, None, (200, 200, 200, True)),
        (Role.PLANNER, "03", (404, 404, 404, False)),
        (Role.COORDINATOR, "03", (404, 404, 404, False)),
        (Role.GUEST, "02", (404, 404, 404, False)),
    ],
)
def test_district_query_is_seen_by_its_district_only(
    district02_query, role, code, expected
):
    assert _sees(_user("betrachter", role, code), district02_query) == expected


def test_staff_query_is_seen_by_all_staff_but_not_guests(ewr_imported, user):
    query = saved_query_create(
        owner=user,
        title="Für alle",
        selection=PLR_E_E,
        sharing=SavedQuery.Sharing.STAFF,
    )
    assert _sees(_user("planer07", Role.PLANNER, "07"), query)[0] == 200
    assert _sees(_user("gast", Role.GUEST, None), query) == (404, 404, 404, False)


def test_form_presets_own_district_and_needs_one_for_district_sharing(
    ewr_imported, user, client_logged_in
):
    page = client_logged_in.get("/queries/new/")
    assert page.context["form"].initial["district"].code == "01"
    html = page.content.decode()
    assert "Gastbegutachtende sehen keine geteilten Abfragen" in html
    assert "vorerst" not in html
    response = client_logged_in.post(
        "/queries/new/",
        {
            "title": "Ohne Bezirk",
            "sharing": "district",
            "district": "",
            "level": "bezirk",
            "columns": "E_E",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["district"]
    assert not SavedQuery.objects.exists()


def test_detail_page_shows_names_with_units_and_keys_second(
    ewr_imported, user, client_logged_in
):
    from datapool.models import Variable

    variable = Variable.objects.get(key="E_E")
    query = saved_query_create(owner=user, title="Einwohner", selection=PLR_E_E)
    html = client_logged_in.get(f"/queries/{query.pk}/").content.decode()
    selection = html.split('data-testid="selection"')[1].split("</section>")[0]
    assert variable.name in selection
    assert selection.index(variable.name) < selection.index("<code>E_E</code>")
    header = html.split('data-testid="result"')[1].split("</thead>")[0]
    unit = f" ({variable.unit})" if variable.unit else ""
    assert f"{variable.name}{unit}" in header
    assert 'data-testid="column-key">E_E</code>' in header


def _csv_table(content: bytes) -> tuple[dict[str, str], list[list[str]]]:
    text = content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    blank = lines.index([])
    meta = {row[0]: row[1] for row in lines[:blank]}
    return meta, lines[blank + 1 :]


def test_pinned_export_keeps_snapshot_after_later_import(
    ewr_imported, user, client_logged_in, tmp_path
):
    query = saved_query_create(
        owner=user,
        title="Einwohner je Planungsraum",
        inquiry_reference="Drucksache 19/12345",
        selection=PLR_E_E,
    )
    assert client_logged_in.get(f"/queries/{query.pk}/pinned.csv").status_code == 404
    query = saved_query_pin(query=query, user=user)
    html = client_logged_in.get(f"/queries/{query.pk}/").content.decode()
    assert f"/queries/{query.pk}/pinned.csv" in html
    assert f"/queries/{query.pk}/pinned.xlsx" in html

    source = (SHARED_DATA / "EWR_L21_202412E_Matrix.csv").read_text()
    changed = source.replace(
        "202412;01100101;01;10;01;01;0110;3580;",
        "202412;01100101;01;10;01;01;0110;3600;",
    )
    assert changed != source
    path = tmp_path / "EWR_L21_202412E_Matrix.csv"
    path.write_text(changed)
    call_command(
        "datapool_import", str(path), "--map", "06200318=06200418", verbosity=0
    )

    response = client_logged_in.get(f"/queries/{query.pk}/pinned.csv")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    meta, table = _csv_table(response.content)
    when = query.pinned_at.astimezone().strftime("%d.%m.%Y")
    assert f"festgeschriebene Antwort vom {when}" in meta["Titel"]
    assert meta["Anfrage (Drucksache)"] == "Drucksache 19/12345"
    assert meta["Antwort"].startswith(f"Festgeschriebene Antwort vom {when}")
    assert meta["Quelle"] and meta["Lizenz"]
    assert f"#{ewr_imported.pk}" in meta["Importläufe"]
    header, rows = table[0], table[1:]
    assert header[:2] == ["Schlüssel", "Name"]
    exported = {row[0].lstrip(EXCEL_TEXT_MARK): row for row in rows}
    snapshot = {row["code"]: row for row in query.snapshot["rows"]}
    assert exported.keys() == snapshot.keys()
    for code, row in snapshot.items():
        value = row["E_E"]
        expected = "" if value is None else str(int(value))
        assert exported[code][2] == expected, code
    assert exported["01100101"][2] == "3580"
    assert exported["03400831"][2] == ""
    assert exported["03400831"][3] == "gesperrt"

    xlsx = client_logged_in.get(f"/queries/{query.pk}/pinned.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    values = {r[0]: r for r in sheet.iter_rows(values_only=True) if r and r[0]}
    assert values["01100101"][2] == 3580
    assert values["Anfrage (Drucksache)"][1] == "Drucksache 19/12345"


def test_pinned_export_of_unknown_format_is_404(ewr_imported, user, client_logged_in):
    query = saved_query_pin(
        query=saved_query_create(owner=user, title="X", selection=PLR_E_E), user=user
    )
    assert client_logged_in.get(f"/queries/{query.pk}/pinned.pdf").status_code == 404
