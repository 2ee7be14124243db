"""The upload form offers a coordinator their own district only, preset."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.access import Role
from datapool.forms import ImportUploadForm
from lor.models import LorUnit
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _district_options(html: str) -> list[tuple[str, bool]]:
    select = re.search(r'<select name="district"[^>]*>(.*?)</select>', html, re.S)
    assert select, "no district field"
    return [
        (label.strip(), "selected" in attrs)
        for attrs, label in re.findall(r"<option([^>]*)>([^<]*)</option>", select[1])
    ]


def test_coordinator_is_offered_only_their_own_district_preset(client, lor_units):
    client.force_login(
        UserFactory(username="koordination02", role=Role.COORDINATOR, bezirk_code="02")
    )
    html = client.get(reverse("datapool:import-create")).content.decode()
    options = _district_options(html)
    assert len(options) == 1
    label, selected = options[0]
    assert "Friedrichshain-Kreuzberg" in label and selected


def test_administrator_is_offered_every_district(client, lor_units):
    client.force_login(UserFactory(username="verwaltung", role=Role.ADMIN))
    html = client.get(reverse("datapool:import-create")).content.decode()
    assert len([o for o in _district_options(html) if o[0] != "---------"]) == 12


def test_a_foreign_district_sent_anyway_is_refused_with_the_reason(client, lor_units):
    client.force_login(
        UserFactory(username="koordination02", role=Role.COORDINATOR, bezirk_code="02")
    )
    mitte = LorUnit.objects.get(level=LorUnit.Level.BEZIRK, code="01")
    response = client.post(
        reverse("datapool:import-create"),
        {
            "file": SimpleUploadedFile("a.csv", b"PLR;X\n01100101;1\n"),
            "kind": "table",
            "district": mitte.pk,
        },
    )
    assert response.status_code == 403
    assert "Sie dürfen nur Daten Ihres eigenen Bezirks" in response.content.decode()


def test_a_form_shown_again_after_an_error_still_offers_only_the_own_district(
    client, lor_units
):
    client.force_login(
        UserFactory(username="koordination02", role=Role.COORDINATOR, bezirk_code="02")
    )
    own = LorUnit.objects.get(level=LorUnit.Level.BEZIRK, code="02")
    response = client.post(
        reverse("datapool:import-create"),
        {"file": SimpleUploadedFile("a.csv", b""), "kind": "table", "district": own.pk},
    )
    assert response.status_code == 200  # the empty file is the form's error
    options = _district_options(response.content.decode())
    assert len(options) == 1
    assert "Friedrichshain-Kreuzberg" in options[0][0] and options[0][1]


def test_only_administrators_are_offered_berlin_wide_data(lor_units):
    coordinator = UserFactory(
        username="koordination02", role=Role.COORDINATOR, bezirk_code="02"
    )
    admin = UserFactory(username="verwaltung", role=Role.ADMIN)
    offered = {
        user.username: [
            value
            for value, _label in ImportUploadForm(user=user)
            .fields["district"]
            .widget.choices
        ]
        for user in (coordinator, admin)
    }
    assert "" not in offered["koordination02"]
    assert "" in offered["verwaltung"] and len(offered["verwaltung"]) == 13
