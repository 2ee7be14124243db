"""Property test at the HTTP edge: schemathesis generates requests from the OpenAPI
schema at /api/schema/ (valid and invalid parameters) and drives them through the
WSGI app as a logged-in administrator; no input may yield a server error."""

from __future__ import annotations

import contextlib
import json
from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis.generation.modes import GenerationMode

from explorer.maps.classify import METHODS, PALETTES

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_schema(administrator, ewr_imported, settings, tmp_path):
    # Generated uploads and exports stay in this test's directory.
    settings.MEDIA_ROOT = tmp_path / "media"
    token = Token.objects.create(user=administrator).key
    django_app = get_wsgi_application()

    def app(environ, start_response):
        environ["HTTP_AUTHORIZATION"] = f"Token {token}"
        environ.setdefault("HTTP_ACCEPT_LANGUAGE", "de")
        return django_app(environ, start_response)

    # As Django's test client does: requests must not close the connection that
    # holds this test's transaction.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", app)
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


# Examples per operation and mode: the whole run stays well under a minute.
EXAMPLES = 6


def _modes(operation) -> list[GenerationMode]:
    # Invalid query strings and bodies are what clients send by mistake; invalid
    # path segments mostly fail the URL pattern and take long to generate.
    if list(operation.query) or list(operation.body):
        return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    return [GenerationMode.POSITIVE]


def test_api_never_answers_with_a_server_error(api_schema):
    failures: dict[tuple[str, str, int], str] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 10
    for operation in operations:
        for mode in _modes(operation):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def call(case):
                response = case.call()
                if response.status_code >= 500:
                    key = (case.method, case.path, response.status_code)
                    failures.setdefault(key, case.as_curl_command())

            # Unsatisfiable: nothing in this operation can be made invalid.
            with contextlib.suppress(Unsatisfiable):
                call()
    assert not failures, "\n".join(
        f"{method} {path} -> {status}: {curl}"
        for (method, path, status), curl in failures.items()
    )


# Parameters of the map and values endpoints: a mix of valid values (so that the
# classification, comparison and aggregation code runs) and arbitrary text.
junk = st.text(max_size=24)
VARIABLES = ["E_E", "E_EW", "E_EU1", "KI_ANTEIL_U18", "KI_ANTEIL_65PLUS"]
LEVELS = ["berlin", "bezirk", "prognoseraum", "bezirksregion", "planungsraum"]
# The only reference date of the imported matrix; junk covers the rest.
DATES = ["2024-12-31"]
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "inf", "-inf", "1e308", "-0", "1,5"]),
)


def mostly(valid: st.SearchStrategy, other: st.SearchStrategy) -> st.SearchStrategy:
    return st.sampled_from([True] * 9 + [False]).flatmap(
        lambda good: valid if good else other
    )


def one_of(values: list[str]) -> st.SearchStrategy[str]:
    """Mostly one of the values, sometimes anything: whole requests stay often
    valid, so that the code behind the validation runs too."""
    return st.sampled_from([*values] * (9 // len(values) + 1) + [None]).flatmap(
        lambda value: junk if value is None else st.just(value)
    )


THRESHOLDS = mostly(
    st.floats(-1e6, 1e6), st.one_of(st.none(), st.booleans(), st.floats(), junk)
)
MAP_PARAMS = st.fixed_dictionaries(
    {"variable": one_of(VARIABLES), "level": one_of(LEVELS)},
    optional={
        "date": one_of(DATES),
        "compare": one_of(DATES),
        "method": one_of(list(METHODS)),
        "k": st.one_of(st.integers(1, 11).map(str), junk),
        "palette": one_of(list(PALETTES)),
        "breaks": st.lists(st.one_of(NUMBERS, NUMBERS, junk), max_size=10).map(
            ",".join
        ),
    },
)
SELECTIONS = st.fixed_dictionaries(
    {
        "level": one_of(LEVELS),
        "columns": st.lists(one_of(VARIABLES), min_size=1, max_size=4),
    },
    optional={
        "date": st.one_of(st.none(), one_of(DATES)),
        "derived": st.lists(
            st.fixed_dictionaries(
                {
                    "key": one_of(["D1", "E_E"]),
                    "label": junk,
                    "formula": one_of(
                        ["E_E / 0", "E_EW * 100 / E_E", "(", "E_E +", "1e999 * E_E"]
                    ),
                }
            ),
            max_size=2,
        ),
        "conditions": st.lists(
            st.fixed_dictionaries(
                {
                    "column": one_of([*VARIABLES, "D1"]),
                    "op": one_of([">", "<", ">=", "<=", "=", "!="]),
                    "value": THRESHOLDS,
                }
            ),
            max_size=2,
        ),
        "within": one_of(["", "01", "0110", "011001", "11000000"]),
    },
).map(json.dumps)


@pytest.fixture
def token_client(client, administrator):
    client.force_login(administrator)
    return client


FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def test_map_and_values_parameters_never_cause_a_server_error(
    token_client, ewr_imported
):
    statuses: Counter[int] = Counter()

    @settings(FUZZ, max_examples=100)
    @given(
        params=MAP_PARAMS,
        endpoint=st.sampled_from(["/api/maps/values/", "/api/values/"]),
    )
    def call(params, endpoint):
        response = token_client.get(endpoint, params)
        statuses[response.status_code] += 1
        assert response.status_code < 500, (endpoint, params)

    call()
    # The valid share of the mix reaches the classification and aggregation.
    assert statuses[200] >= 20, statuses


def test_selection_parameter_never_causes_a_server_error(token_client, ewr_imported):
    statuses: Counter[int] = Counter()

    @settings(FUZZ, max_examples=50)
    @given(selection=SELECTIONS)
    def call(selection):
        response = token_client.get("/api/analysis/table/", {"selection": selection})
        statuses[response.status_code] += 1
        assert response.status_code < 500, selection

    call()
    assert statuses[200] >= 10, statuses


@pytest.mark.parametrize(
    ("url", "params"),
    [
        # Found by the tests above: each gave a 500 before it was fixed.
        ("/api/queries/", {"q": "\x00("}),
        ("/queries/", {"q": "a\x00"}),
        ("/api/analysis/table/", {"selection": "1e308"}),
        (
            "/api/analysis/table/",
            {
                "selection": json.dumps(
                    {
                        "level": "bezirk",
                        "columns": ["E_E"],
                        "conditions": [{"column": "E_E", "op": ">", "value": None}],
                    }
                )
            },
        ),
        (
            "/api/analysis/table/",
            {
                "selection": json.dumps(
                    {"level": "bezirk", "columns": ["E_E"], "within": 1}
                )
            },
        ),
    ],
)
def test_inputs_that_once_caused_server_errors_are_answered(
    token_client, ewr_imported, url, params
):
    response = token_client.get(url, params)
    assert response.status_code in {200, 400}, response.content[:300]
