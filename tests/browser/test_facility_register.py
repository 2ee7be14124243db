"""A data coordinator places a new Kita on the map, saves it, then closes it."""

import re
from datetime import date

import pytest

from core.models import AuditEvent
from infrastructure.models import Facility
from infrastructure.services import facility_types_ensure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_coordinator_creates_and_closes_a_facility(page, login, coordinator, artifacts):
    kita = facility_types_ensure()["kita"]
    login(coordinator, "/facilities/")
    page.get_by_test_id("facility-new").click()
    page.wait_for_url(re.compile(r"/facilities/new/$"))
    page.locator("#facility-map .leaflet-overlay-pane path").first.wait_for(
        state="attached"
    )
    page.get_by_label("Typ").select_option(str(kita.pk))
    page.get_by_label("Name").fill("Kita Spittelmarkt")
    page.get_by_label("Kapazität").fill("90")
    page.get_by_label("Träger").fill("Eigenbetrieb Kindergärten City")
    # The map opens on Berlin's centre (Mitte): a click there places the Kita.
    page.get_by_test_id("facility-map").click()
    assert page.locator("#id_lat").input_value() != ""
    page.screenshot(path=artifacts / "facility_create.png", full_page=True)
    page.get_by_test_id("facility-save").click()
    page.wait_for_url(re.compile(r"/facilities/\d+/$"))
    assert page.get_by_test_id("facility-capacity").inner_text().startswith("90")

    facility = Facility.objects.get(name="Kita Spittelmarkt")
    assert facility.unit.code.startswith("01")
    assert facility.capacity == 90

    page.get_by_test_id("facility-close").click()
    page.get_by_label("Geschlossen ab").fill("2025-08-01")
    page.get_by_test_id("close-submit").click()
    page.wait_for_url(re.compile(r"/facilities/\d+/$"))
    assert page.get_by_test_id("facility-valid-to").inner_text() == "01.08.2025"
    page.screenshot(path=artifacts / "facility_closed.png", full_page=True)

    facility.refresh_from_db()
    assert facility.status == Facility.Status.CLOSED
    assert facility.valid_to == date(2025, 8, 1)
    assert list(
        AuditEvent.objects.filter(object_id=str(facility.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["create", "status"]
