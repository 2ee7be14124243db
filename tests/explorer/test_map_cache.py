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


def _import_stueler_3600(tmp_path) -> None:
    """Re-import the real matrix with Stülerstraße's E_E changed to 3600."""
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


def test_a_new_import_invalidates_cached_map_values(
    client_logged_in, ewr_imported, tmp_path
):
    assert _stueler(client_logged_in) == 3580
    assert _stueler(client_logged_in) == 3580  # served from the cache
    _import_stueler_3600(tmp_path)
    assert _stueler(client_logged_in) == 3600


def test_token_clients_and_anonymous_requests_do_not_take_the_cached_path(
    client, ewr_imported
):
    response = client.get("/api/maps/values/", {"variable": "E_E", "level": "bezirk"})
    assert response.status_code in (401, 403)


def test_a_logged_out_session_is_not_answered_from_memory(
    client_logged_in, ewr_imported
):
    session_key = client_logged_in.session.session_key
    params = {"variable": "E_E", "level": "planungsraum"}
    assert client_logged_in.get("/api/maps/values/", params).status_code == 200
    assert client_logged_in.get("/api/maps/values/", params).status_code == 200
    client_logged_in.post("/accounts/logout/")
    # The old cookie again, as a thief who copied it would send it.
    client_logged_in.cookies["sessionid"] = session_key
    assert client_logged_in.get("/api/maps/values/", params).status_code in (401, 403)


def test_a_new_confidentiality_rule_reaches_cached_maps(client_logged_in, ewr_imported):
    from datapool.models import Variable

    params = {"variable": "E_E95_110", "level": "planungsraum"}

    def suppressed() -> int:
        data = client_logged_in.get("/api/maps/values/", params).json()
        return sum(r["status"] == "suppressed" for r in data["results"])

    before = suppressed()
    assert suppressed() == before  # warm: from memory
    Variable.objects.filter(key="E_E95_110").update(
        confidentiality="small_counts", confidentiality_threshold=4
    )
    assert suppressed() > before


def test_token_clients_get_warm_answers_that_follow_new_imports(
    client, user, ewr_imported, tmp_path
):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=user)
    headers = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    params = {"variable": "E_E", "level": "planungsraum"}

    def value() -> float:
        response = client.get("/api/values/", params, **headers)
        assert response.status_code == 200
        return next(
            r["value"] for r in response.json()["results"] if r["code"] == "01100101"
        )

    assert value() == 3580
    assert value() == 3580  # warm
    _import_stueler_3600(tmp_path)
    assert value() == 3600
    assert client.get("/api/values/", params).status_code in (401, 403)
