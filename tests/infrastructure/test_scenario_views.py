"""Scenario pages: create, add a change, the polled comparison, exports, access,
and attaching a scenario to a saved query and a profile measure."""

from __future__ import annotations

import io
import subprocess
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse
from openpyxl import load_workbook

from core.access import Role
from core.models import AuditEvent
from infrastructure.models import Scenario, ScenarioChange
from infrastructure.scenarios import MARKER, scenario_change_add, scenario_create
from tests.infrastructure.world import CODES, ON, X, Y
from tests.support.login import user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def scenario(world, user):
    rule, _units, _facilities = world
    scenario = scenario_create(owner=user, title="=Kita Neu", rule=rule, ref_date=ON)
    scenario_change_add(
        scenario=scenario,
        user=user,
        kind=ScenarioChange.Kind.ADD,
        name="Kita am Platz",
        geom=Point(X["A"], Y, srid=25833),
        capacity=Decimal(90),
    )
    return scenario


def test_a_planner_creates_a_scenario_and_adds_a_kita_by_planungsraum(
    client, user, world
):
    rule, _units, _facilities = world
    client.force_login(user)
    response = client.post(
        reverse("scenarios:create"),
        {"title": "Was wäre wenn", "rule": rule.pk, "ref_date": "2024-12-31"},
    )
    scenario = Scenario.objects.get(title="Was wäre wenn")
    assert response.status_code == 302
    assert scenario.owner == user and not scenario.shared
    assert scenario.district.code == "01"
    page = client.get(scenario.get_absolute_url())
    assert MARKER in page.content.decode()
    # The form alternative to a click: a Planungsraum, no coordinates.
    response = client.post(
        reverse("scenarios:change-add", kwargs={"pk": scenario.pk}),
        {
            "kind": "add",
            "name": "Kita Neu",
            "capacity": "90",
            "planungsraum": CODES["C"],
        },
    )
    assert response.status_code == 302
    change = scenario.changes.get()
    assert (change.geom.x, change.geom.y) == pytest.approx((X["C"], Y))
    answer = client.get(
        reverse("scenarios:result", kwargs={"pk": scenario.pk}),
        {"method": "grenzen"},
    ).json()
    assert answer["state"] == "done"
    c = next(u for u in answer["result"]["units"] if u["code"] == CODES["C"])
    # C: K3 (40) → 130 places for 200 children.
    assert c["before"]["grade"] == pytest.approx(20.0)
    assert c["after"]["grade"] == pytest.approx(65.0)


def test_a_change_without_a_place_is_refused_in_german(client, user, scenario):
    client.force_login(user)
    response = client.post(
        reverse("scenarios:change-add", kwargs={"pk": scenario.pk}),
        {"kind": "add", "capacity": "90"},
    )
    assert response.status_code == 400
    assert "Planungsraum" in response.content.decode()
    assert scenario.changes.count() == 1


def test_the_xlsx_has_before_after_the_marker_and_neutralised_text(
    client, user, scenario
):
    client.force_login(user)
    response = client.get(
        reverse("scenarios:export", kwargs={"pk": scenario.pk, "fmt": "xlsx"}),
        {"method": "grenzen"},
    )
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][1] == MARKER
    # The title starts with "=": kept as text, never a formula.
    assert rows[1][1] == "'=Kita Neu"
    header = next(r for r in rows if r[0] == "Schlüssel")
    a = next(r for r in rows if r[0] == CODES["A"])
    values = dict(zip(header, a, strict=True))
    assert values["Versorgungsgrad vorher (%)"] == pytest.approx(60.0)
    assert values["Versorgungsgrad nachher (%)"] == pytest.approx(150.0)
    assert values["Veränderung des Versorgungsgrads (Prozentpunkte)"] == pytest.approx(
        90.0
    )
    sources = next(r for r in rows if r[0] == "Quellen")[1]
    assert "Einrichtungsregister" in sources
    changes = list(book.worksheets[1].iter_rows(values_only=True))
    assert changes[0][0] == MARKER
    assert any(r[1] == "Kita am Platz" and r[2] == 90 for r in changes)


def test_the_pdf_names_marker_changes_and_before_after(
    client, user, scenario, tmp_path
):
    client.force_login(user)
    response = client.get(
        reverse("scenarios:export", kwargs={"pk": scenario.pk, "fmt": "pdf"}),
        {"method": "grenzen"},
    )
    assert response.status_code == 200
    path = tmp_path / "s.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert MARKER in text
    assert "Kita am Platz" in text
    line = next(line for line in text.splitlines() if CODES["A"] in line)
    assert "60,0 %" in line and "150,0 %" in line
    # The change map is drawn in.
    images = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert len(images) >= 1


@pytest.mark.parametrize("fmt", ["xlsx", "pdf"])
def test_a_scenario_export_is_audited(client, user, scenario, fmt):
    client.force_login(user)
    response = client.get(
        reverse("scenarios:export", kwargs={"pk": scenario.pk, "fmt": fmt}),
        {"method": "grenzen"},
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.user == user
    assert event.object_type == "infrastructure.scenario"
    assert event.object_id == str(scenario.pk)
    assert event.object_label.endswith(f".{fmt}")
    assert event.details == {
        "format": fmt,
        "method": "grenzen",
        "level": "planungsraum",
    }


def test_private_shared_and_other_district(client, user, scenario):
    colleague = user_with_role("kollegin01", Role.PLANNER, "01")
    other = user_with_role("planung03", Role.PLANNER, "03")
    url = scenario.get_absolute_url()
    client.force_login(colleague)
    response = client.get(url)
    assert response.status_code == 403
    assert "privat" in response.content.decode()
    scenario.shared = True
    scenario.save()
    assert client.get(url).status_code == 200
    # Shared is not editable by the colleague.
    response = client.post(
        reverse("scenarios:change-add", kwargs={"pk": scenario.pk}),
        {"kind": "add", "capacity": "5", "planungsraum": CODES["B"]},
    )
    assert response.status_code == 403
    client.force_login(other)
    response = client.get(url)
    assert response.status_code == 403
    body = response.content.decode()
    assert "anderen Bezirks" in body
    assert "<main" in body  # the styled error page in the site layout
    assert (
        client.get(reverse("scenarios:list")).content.decode().count("=Kita Neu") == 0
    )


def test_a_scenario_attached_to_a_saved_query_shows_on_it(client, user, scenario):
    from queries.services import saved_query_create

    query = saved_query_create(
        owner=user,
        title="Kita-Versorgung",
        selection={"level": "bezirk", "columns": ["TEST_KINDER"]},
    )
    client.force_login(user)
    response = client.post(
        reverse("queries:scenarios", kwargs={"pk": query.pk}),
        {"scenarios": [scenario.pk]},
    )
    assert response.status_code == 302
    assert list(query.scenarios.all()) == [scenario]
    page = client.get(query.get_absolute_url()).content.decode()
    assert scenario.get_absolute_url() in page


def test_a_scenario_attached_to_a_measure_shows_in_the_profile(client, user, scenario):
    from lor.models import LorUnit
    from profiles import services

    edition = services.profile_edition_create(
        user=user, region=LorUnit.objects.get(code="011001")
    )
    goal = services.goal_save(
        user=user,
        edition=edition,
        theme="sonstiges",
        text="Kitaplätze schaffen",
        department="Jugendamt",
    )
    measure = services.measure_save(user=user, goal=goal, text="Neue Kita")
    client.force_login(user)
    response = client.post(
        reverse("profiles:measure-scenarios", kwargs={"pk": measure.pk}),
        {"scenarios": [scenario.pk]},
    )
    assert response.status_code == 302
    assert list(measure.scenarios.all()) == [scenario]
    page = client.get(edition.get_absolute_url()).content.decode()
    assert scenario.get_absolute_url() in page
    # A reader who may not open the private scenario does not see its title.
    other = user_with_role("planung03", Role.PLANNER, "03")
    client.force_login(other)
    page = client.get(edition.get_absolute_url()).content.decode()
    assert scenario.get_absolute_url() not in page


def test_a_click_on_the_map_places_the_facility_in_epsg_25833(client, user, scenario):
    from lor.models import LorUnit

    client.force_login(user)
    # The Brandenburger Tor, as the map reports a click (WGS 84).
    response = client.post(
        reverse("scenarios:change-add", kwargs={"pk": scenario.pk}),
        {"kind": "add", "capacity": "30", "lat": "52.516275", "lon": "13.377704"},
    )
    assert response.status_code == 302
    change = scenario.changes.order_by("pk").last()
    assert change.geom.srid == 25833
    assert change.geom.x == pytest.approx(389_900, abs=300)
    unit = LorUnit.objects.get(
        scheme=LorUnit.Scheme.LOR_2021,
        level=LorUnit.Level.PLANUNGSRAUM,
        geom__intersects=change.geom,
    )
    assert unit.code.startswith("01")


def test_a_polled_result_of_another_scenario_is_not_handed_out(
    client, user, scenario, world
):
    from infrastructure.tasks import scenario_compute_task

    rule, _units, _facilities = world
    other = scenario_create(owner=user, title="Anderes", rule=rule, ref_date=ON)
    task_id = "scenario-test-foreign-result"
    scenario_compute_task.backend.store_result(
        task_id, {"scenario": other.pk, "units": []}, "SUCCESS"
    )
    client.force_login(user)
    url = reverse(
        "scenarios:result-status", kwargs={"pk": scenario.pk, "task_id": task_id}
    )
    assert client.get(url).status_code == 404
    own = reverse(
        "scenarios:result-status", kwargs={"pk": other.pk, "task_id": task_id}
    )
    answer = client.get(own).json()
    assert answer["state"] == "done" and answer["result"]["scenario"] == other.pk
    scenario_compute_task.backend.forget(task_id)


def test_a_rule_without_demand_data_is_explained_not_a_server_error(
    client, user, scenario
):
    rule = scenario.rule
    rule.demand_formula = "NICHT_DA"
    rule.save()
    client.force_login(user)
    answer = client.get(reverse("scenarios:result", kwargs={"pk": scenario.pk}))
    assert answer.status_code == 200
    assert answer.json()["state"] == "failed"
    assert "NICHT_DA" in answer.json()["error"]
    export = client.get(
        reverse("scenarios:export", kwargs={"pk": scenario.pk, "fmt": "xlsx"})
    )
    assert export.status_code == 302
