"""Saved queries: services, visibility, permalink page, pinning across imports, API."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from rest_framework.test import APIClient

from core.access import Role
from queries.models import SavedQuery
from queries.selectors import saved_query_list, saved_query_result
from queries.services import (
    saved_query_create,
    saved_query_delete,
    saved_query_duplicate,
    saved_query_pin,
    saved_query_update,
)
from tests.conftest import SHARED_DATA
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PLR_E_E = {"level": "planungsraum", "columns": ["E_E"], "date": None}


@pytest.fixture
def other_user(lor_units):
    """A planner of Bezirk 03: sees queries shared with staff and with Bezirk 03."""
    return UserFactory(username="kollege", role=Role.PLANNER, bezirk_code="03")


@pytest.fixture
def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def other_api(other_user):
    client = APIClient()
    client.force_authenticate(other_user)
    return client


def _create(owner, **kwargs) -> SavedQuery:
    defaults = {
        "title": "Einwohner je Planungsraum",
        "inquiry_reference": "Drucksache 19/12345",
        "selection": PLR_E_E,
    }
    return saved_query_create(owner=owner, **{**defaults, **kwargs})


def _row(answer: dict, code: str) -> dict:
    return next(r for r in answer["rows"] if r["code"] == code)


def test_saved_query_create_stores_normalised_selection(ewr_imported, user):
    query = _create(
        user,
        selection={
            "level": "bezirk",
            "columns": ["E_E"],
            "conditions": [{"column": "E_E", "op": ">", "value": "300000"}],
        },
    )
    query.refresh_from_db()
    assert query.selection == {
        "level": "bezirk",
        "columns": ["E_E"],
        "date": None,
        "derived": [],
        "conditions": [{"column": "E_E", "op": ">", "value": 300000.0}],
        "within": "",
    }
    assert query.owner == user
    assert query.sharing == SavedQuery.Sharing.PRIVATE
    answer = saved_query_result(query=query)
    assert answer["source"] == "current"
    assert len(answer["rows"]) == 12
    assert 0 < answer["matches"] < 12
    assert answer["columns"][0]["date"] == "2024-12-31"


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        ({"level": "planungsraum", "columns": ["NO_SUCH_KEY"]}, "NO_SUCH_KEY"),
        ({"level": "mond", "columns": ["E_E"]}, "mond"),
        ({"columns": ["E_E"]}, "level"),
        ({"level": "bezirk", "columns": ["E_E"], "date": "31.12.2024"}, ""),
        (
            {
                "level": "bezirk",
                "columns": ["E_E"],
                "conditions": [{"column": "E_E", "op": ">", "value": "viel"}],
            },
            "",
        ),
        ("not a dict", ""),
    ],
)
def test_saved_query_create_rejects_bad_selection(
    ewr_imported, user, selection, message
):
    with pytest.raises(ValidationError) as exc:
        _create(user, selection=selection)
    assert message in " ".join(exc.value.messages)
    assert not SavedQuery.objects.exists()


def test_district_sharing_needs_a_bezirk(ewr_imported, user):
    with pytest.raises(ValidationError):
        _create(user, sharing=SavedQuery.Sharing.DISTRICT)


def test_list_shows_own_and_shared_and_searches(ewr_imported, user, other_user):
    own = _create(user, title="Kinderarmut Pankow", inquiry_reference="BVV 0815/XXI")
    private = _create(other_user, title="Privat")
    shared = _create(other_user, title="Für alle", sharing=SavedQuery.Sharing.STAFF)
    assert set(saved_query_list(user=user)) == {own, shared}
    assert list(saved_query_list(user=user, q="0815")) == [own]
    assert list(saved_query_list(user=user, q="alle")) == [shared]
    assert private in saved_query_list(user=other_user)


def test_other_user_cannot_change_or_see_private_query(
    ewr_imported, user, other_user, client
):
    query = _create(user)
    with pytest.raises(PermissionDenied):
        saved_query_delete(query=query, user=other_user)
    with pytest.raises(PermissionDenied):
        saved_query_update(query=query, user=other_user, title="Übernommen")
    with pytest.raises(PermissionDenied):
        saved_query_pin(query=query, user=other_user)
    with pytest.raises(PermissionDenied):
        saved_query_duplicate(query=query, user=other_user)
    client.force_login(other_user)
    assert client.get(f"/queries/{query.pk}/").status_code == 404
    assert client.post(f"/queries/{query.pk}/delete/").status_code == 404
    assert SavedQuery.objects.filter(pk=query.pk).exists()


def test_other_user_sees_staff_query_but_cannot_delete_it(
    ewr_imported, user, other_user, client
):
    query = _create(user, sharing=SavedQuery.Sharing.STAFF)
    client.force_login(other_user)
    page = client.get(f"/queries/{query.pk}/")
    assert page.status_code == 200
    assert "Drucksache 19/12345" in page.content.decode()
    assert client.post(f"/queries/{query.pk}/delete/").status_code == 403
    assert SavedQuery.objects.filter(pk=query.pk).exists()


def test_list_page_query_count_does_not_grow(
    ewr_imported, user, client_logged_in, django_assert_max_num_queries
):
    for n in range(5):
        _create(user, title=f"Anfrage {n}", sharing=SavedQuery.Sharing.STAFF)
    # 6 plus the viewer's role (groups) and district (staff profile), issue 7.
    with django_assert_max_num_queries(8):
        response = client_logged_in.get("/queries/?q=Anfrage")
    assert response.content.decode().count('data-testid="saved-query"') == 5


def test_permalink_page_shows_german_values_and_suppressed(
    ewr_imported, user, client_logged_in
):
    query = _create(user, description="Frage nach Einwohnerzahlen.")
    response = client_logged_in.get(f"/queries/{query.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Einwohner je Planungsraum" in html
    assert "Drucksache 19/12345" in html
    assert "Frage nach Einwohnerzahlen." in html
    assert "<code>E_E</code>" in html
    row = html.split('data-code="03400831"')[1].split("</tr>")[0]
    assert "gesperrt" in row
    assert not any(ch.isdigit() for ch in row.split("</td>", 2)[2])
    first = html.split('data-code="01100101"')[1].split("</tr>")[0]
    assert "3.580" in first


def test_create_page_builds_selection_from_simple_form(
    ewr_imported, user, client_logged_in
):
    response = client_logged_in.post(
        "/queries/new/",
        {
            "title": "Große Bezirke",
            "inquiry_reference": "BVV-Anfrage 0815/XXI",
            "sharing": "private",
            "level": "bezirk",
            "columns": "E_E, E_EW",
            "date": "2024-12-31",
            "conditions": "E_E > 300000\nE_EW >= 1,5",
        },
    )
    query = SavedQuery.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/queries/{query.pk}/"
    assert query.selection["columns"] == ["E_E", "E_EW"]
    assert query.selection["date"] == "2024-12-31"
    assert query.selection["conditions"][1] == {
        "column": "E_EW",
        "op": ">=",
        "value": 1.5,
    }
    page = client_logged_in.get("/queries/").content.decode()
    assert "Große Bezirke" in page


def test_create_page_accepts_selection_json_and_reports_errors(
    ewr_imported, user, client_logged_in
):
    response = client_logged_in.post(
        "/queries/new/",
        {
            "title": "Aus dem Explorer",
            "sharing": "staff",
            "selection_json": '{"level": "bezirksregion", "columns": ["E_E"]}',
        },
    )
    assert response.status_code == 302
    assert SavedQuery.objects.get().selection["level"] == "bezirksregion"
    bad = client_logged_in.post(
        "/queries/new/",
        {"title": "Kaputt", "sharing": "private", "level": "bezirk", "columns": "X"},
    )
    assert bad.status_code == 200
    assert "Unbekannte Variable(n): X" in bad.content.decode()
    assert SavedQuery.objects.count() == 1


def test_duplicate_makes_private_copy_for_viewer(
    ewr_imported, user, other_user, client
):
    query = _create(user, sharing=SavedQuery.Sharing.STAFF)
    client.force_login(other_user)
    response = client.post(f"/queries/{query.pk}/duplicate/")
    copy = SavedQuery.objects.exclude(pk=query.pk).get()
    assert response["Location"] == f"/queries/{copy.pk}/"
    assert copy.owner == other_user
    assert copy.sharing == SavedQuery.Sharing.PRIVATE
    assert copy.selection == query.selection
    assert query.title in copy.title


def test_pinned_query_keeps_answer_after_new_import(
    ewr_imported, user, client_logged_in, api, tmp_path
):
    query = _create(user)
    client_logged_in.post(f"/queries/{query.pk}/pin/")
    query.refresh_from_db()
    assert query.pinned and query.pinned_at
    assert _row(query.snapshot, "01100101")["E_E"] == 3580
    assert ewr_imported.pk in [r["id"] for r in query.snapshot["import_runs"]]

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

    pinned = api.get(f"/api/queries/{query.pk}/result/").json()
    assert pinned["source"] == "snapshot"
    assert pinned["pinned"] is True
    assert _row(pinned, "01100101")["E_E"] == 3580
    assert _row(pinned, "03400831")["E_E"] is None
    assert _row(pinned, "03400831")["E_E__status"] == "suppressed"
    current = api.get(f"/api/queries/{query.pk}/result/?current=1").json()
    assert current["source"] == "current"
    assert _row(current, "01100101")["E_E"] == 3600
    assert max(r["id"] for r in current["import_runs"]) > ewr_imported.pk

    html = client_logged_in.get(f"/queries/{query.pk}/").content.decode()
    assert 'data-testid="pinned-notice"' in html
    assert "3.580" in html.split('data-code="01100101"')[1].split("</tr>")[0]
    html = client_logged_in.get(f"/queries/{query.pk}/?current=1").content.decode()
    assert "3.600" in html.split('data-code="01100101"')[1].split("</tr>")[0]


def test_pinned_selection_cannot_change_until_unpinned(ewr_imported, user):
    query = saved_query_pin(query=_create(user), user=user)
    with pytest.raises(ValidationError):
        saved_query_update(
            query=query, user=user, selection={**PLR_E_E, "level": "bezirk"}
        )
    saved_query_update(query=query, user=user, title="Neuer Titel")
    query.refresh_from_db()
    assert query.title == "Neuer Titel" and query.pinned


def test_delete_via_page(ewr_imported, user, client_logged_in):
    query = _create(user)
    response = client_logged_in.post(f"/queries/{query.pk}/delete/")
    assert response.status_code == 302
    assert response["Location"] == "/queries/"
    assert not SavedQuery.objects.exists()
    assert client_logged_in.get(f"/queries/{query.pk}/").status_code == 404


def test_api_create_list_update_delete(ewr_imported, user, other_user, api, other_api):
    response = api.post(
        "/api/queries/",
        {
            "title": "Anfrage Bevölkerung",
            "inquiry_reference": "Drucksache 19/22222",
            "sharing": "district",
            "district": "03",
            "selection": {"level": "bezirk", "columns": ["E_E"], "date": None},
            "presentation": {"method": "quantiles", "k": 5},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"] == "planerin"
    assert body["district"] == "03"
    pk = body["id"]

    listed = other_api.get("/api/queries/?q=22222").json()
    assert [q["id"] for q in listed] == [pk]
    assert other_api.get(f"/api/queries/{pk}/").status_code == 200

    change = {
        "title": "Übernommen",
        "selection": {"level": "bezirk", "columns": ["E_E"]},
    }
    assert (
        other_api.put(f"/api/queries/{pk}/", change, format="json").status_code == 403
    )
    assert other_api.delete(f"/api/queries/{pk}/").status_code == 403

    updated = api.put(f"/api/queries/{pk}/", change, format="json")
    assert updated.status_code == 200
    assert updated.json()["title"] == "Übernommen"
    assert updated.json()["sharing"] == "private"

    assert other_api.get(f"/api/queries/{pk}/").status_code == 404
    result = api.get(f"/api/queries/{pk}/result/").json()
    assert result["source"] == "current"
    assert {"code", "name", "match", "E_E", "E_E__status"} <= set(result["rows"][0])

    assert api.delete(f"/api/queries/{pk}/").status_code == 204
    assert not SavedQuery.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"title": "x", "selection": {"level": "bezirk", "columns": ["NOPE"]}},
        {"title": "x", "selection": {"columns": ["E_E"]}},
        {
            "title": "x",
            "selection": {"level": "bezirk", "columns": ["E_E"], "date": "gestern"},
        },
        {
            "title": "x",
            "selection": {
                "level": "bezirk",
                "columns": ["E_E"],
                "derived": [{"bogus": 1}],
            },
        },
        {"title": "x", "selection": "E_E"},
        {"selection": {"level": "bezirk", "columns": ["E_E"]}},
        {
            "title": "x",
            "sharing": "district",
            "selection": {"level": "bezirk", "columns": ["E_E"]},
        },
        {
            "title": "x",
            "district": "0310",
            "selection": {"level": "bezirk", "columns": ["E_E"]},
        },
    ],
)
def test_api_bad_input_is_400(ewr_imported, api, payload):
    response = api.post("/api/queries/", payload, format="json")
    assert response.status_code == 400, response.content
    assert response.json()
    assert not SavedQuery.objects.exists()


def test_api_requires_login_and_schema_lists_endpoints(client_logged_in):
    assert APIClient().get("/api/queries/").status_code in (401, 403)
    schema = client_logged_in.get("/api/schema/").content.decode()
    assert "/api/queries/{id}/result/" in schema
