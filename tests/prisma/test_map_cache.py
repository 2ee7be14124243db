"""The map's response cache never serves values older than the last import."""

import pytest
from django.core.management import call_command

from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.django_db


def _stueler(client) -> float:
    data = client.get(
        "/api/maps/values/", {"variable": "E_E", "level": "planungsraum"}
    ).json()
    return next(r["value"] for r in data["results"] if r["code"] == "01100101")


def test_a_new_import_invalidates_cached_map_values(
    client_logged_in, ewr_imported, tmp_path
):
    assert _stueler(client_logged_in) == 3580
    assert _stueler(client_logged_in) == 3580  # served from the cache
    changed = tmp_path / "EWR_L21_202412E_Matrix.csv"
    text = (SHARED_DATA / "EWR_L21_202412E_Matrix.csv").read_text()
    changed.write_text(
        text.replace(
            "202412;01100101;01;10;01;01;0110;3580;",
            "202412;01100101;01;10;01;01;0110;3600;",
            1,
        )
    )
    call_command(
        "datapool_import", str(changed), "--map", "06200318=06200418", verbosity=0
    )
    assert _stueler(client_logged_in) == 3600


def test_token_clients_and_anonymous_requests_do_not_take_the_cached_path(
    client, ewr_imported
):
    response = client.get("/api/maps/values/", {"variable": "E_E", "level": "bezirk"})
    assert response.status_code in (401, 403)
