"""Property test at the HTTP edge: schemathesis generates requests from the OpenAPI
schema at /api/schema/ (valid and invalid parameters) and drives them through the
WSGI app as a logged-in administrator; no input may yield a server error."""

from __future__ import annotations

import contextlib
import json
from collections import Counter

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
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
    statuses: Counter[int] = Counter()
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
                statuses[response.status_code] += 1
                if response.status_code >= 500:
                    key = (case.method, case.path, response.status_code)
                    failures.setdefault(key, case.as_curl_command())

            # Unsatisfiable: nothing in this operation can be made invalid.
            with contextlib.suppress(Unsatisfiable):
                call()
    print(
        f"fuzz schema: {statuses.total()} requests, {len(failures)} server errors "
        f"{dict(sorted(statuses.items()))}"
    )
    assert not failures, "\n".join(
        f"{method} {path} -> {status}: {curl}"
        for (method, path, status), curl in failures.items()
    )


# Parameters of the map and values endpoints: a mix of valid values (so that the
# classification, comparison and aggregation code runs) and bad input of the
# kinds that once caused server errors (finding 9): non-finite and huge numbers,
# NUL characters, invalid levels and dates.
junk = st.text(max_size=24)
NUL = st.sampled_from(["\x00", "E_E\x00", "bez\x00irk", "2024-12-31\x00", "\x00("])
HUGE = "9" * 400
VARIABLES = ["E_E", "E_EW", "E_EU1", "KI_ANTEIL_U18", "KI_ANTEIL_65PLUS"]
LEVELS = ["berlin", "bezirk", "prognoseraum", "bezirksregion", "planungsraum"]
BAD_LEVELS = ["5", "custom:abc", "custom:999999", "custom:", "Bezirk", "bezirk "]
# The only reference date of the imported matrix; the others have no values or
# are no dates.
DATES = ["2024-12-31"]
BAD_DATES = ["9999-12-31", "0001-01-01", "2024-02-30", "31.12.2024", "20241231"]
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "inf", "-inf", "1e308", "1e999", HUGE, "-0", "1,5"]),
    st.integers(0, 10**6).map(str),
)


def mostly(valid: st.SearchStrategy, other: st.SearchStrategy) -> st.SearchStrategy:
    return st.sampled_from([True] * 9 + [False]).flatmap(
        lambda good: valid if good else other
    )


def one_of(values: list[str], bad: list[str] | None = None) -> st.SearchStrategy[str]:
    """Mostly one of the values, sometimes a known bad value, NUL or anything:
    whole requests stay often valid, so that the code behind validation runs."""
    other = st.one_of(junk, NUL, *([st.sampled_from(bad)] if bad else []))
    return st.sampled_from([*values] * (9 // len(values) + 1) + [None]).flatmap(
        lambda value: other if value is None else st.just(value)
    )


THRESHOLDS = mostly(
    st.floats(-1e6, 1e6),
    st.one_of(
        st.none(),
        st.booleans(),
        st.floats(),  # NaN and ±Infinity: json.dumps writes them as such
        st.integers(10**300, 10**400),
        st.sampled_from(["nan", "inf", "1e999", HUGE]),
        junk,
    ),
)
MAP_PARAMS = st.fixed_dictionaries(
    {"variable": one_of(VARIABLES), "level": one_of(LEVELS, BAD_LEVELS)},
    optional={
        "date": one_of(DATES, BAD_DATES),
        "compare": one_of(DATES, BAD_DATES),
        "method": one_of(list(METHODS)),
        "k": st.one_of(st.integers(1, 11).map(str), junk, st.just(HUGE)),
        "palette": one_of(list(PALETTES)),
        "breaks": st.lists(st.one_of(NUMBERS, NUMBERS, junk, NUL), max_size=10).map(
            ",".join
        ),
    },
)
# Manual classes over valid values: only the breaks can be wrong, and are, with
# non-finite and huge numbers among ascending ones.
MANUAL_PARAMS = st.fixed_dictionaries(
    {
        "variable": st.sampled_from(VARIABLES),
        "level": st.sampled_from(LEVELS),
        "method": st.just("manual"),
        "breaks": st.one_of(
            st.lists(NUMBERS, max_size=3).map(lambda n: ",".join(["1", "10", *n])),
            st.sampled_from(["nan,inf", "1,1e999", f"1,{HUGE}", "-inf,5", "1e999"]),
        ),
    }
)
FORMULAS = [
    "E_E / 0",
    "E_EW * 100 / E_E",
    "(",
    "E_E +",
    "1e999 * E_E",
    "E_E * 1e300 * 1e300",
    "1e999 - 1e999",
    HUGE,
    f"E_E * {HUGE}",
    "True * E_E",
]
SELECTION_DICTS = st.fixed_dictionaries(
    {
        "level": one_of(LEVELS, BAD_LEVELS),
        "columns": st.lists(one_of(VARIABLES), min_size=1, max_size=4),
    },
    optional={
        "date": st.one_of(st.none(), one_of(DATES, BAD_DATES)),
        "derived": st.lists(
            st.fixed_dictionaries(
                {
                    "key": one_of(
                        ["D1", "E_E"], ["code", "E_E__status", "E_E_status", "D 1"]
                    ),
                    "label": junk,
                    "formula": one_of(FORMULAS),
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
)
SELECTIONS = SELECTION_DICTS.map(json.dumps)


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


class Requests:
    """Counts the answers of one fuzz test by status and reports them."""

    def __init__(self, name: str):
        self.name = name
        self.statuses: Counter[int] = Counter()

    def record(self, response, request) -> None:
        self.statuses[response.status_code] += 1
        assert response.status_code < 500, request

    def report(self) -> None:
        errors = sum(n for status, n in self.statuses.items() if status >= 500)
        print(
            f"fuzz {self.name}: {self.statuses.total()} requests, "
            f"{errors} server errors {dict(sorted(self.statuses.items()))}"
        )


def test_map_and_values_parameters_never_cause_a_server_error(
    token_client, ewr_imported
):
    requests = Requests("values and map values")

    @settings(FUZZ, max_examples=150)
    @given(
        params=st.one_of(MAP_PARAMS, MAP_PARAMS, MANUAL_PARAMS),
        endpoint=st.sampled_from(["/api/maps/values/", "/api/values/"]),
    )
    def call(params, endpoint):
        response = token_client.get(endpoint, params)
        requests.record(response, (endpoint, params))

    call()
    requests.report()
    # The valid share of the mix reaches the classification and aggregation.
    assert requests.statuses[200] >= 20, requests.statuses


def test_selection_parameter_never_causes_a_server_error(token_client, ewr_imported):
    requests = Requests("analysis table")

    @settings(FUZZ, max_examples=100)
    @given(selection=SELECTIONS)
    def call(selection):
        response = token_client.get("/api/analysis/table/", {"selection": selection})
        requests.record(response, selection)

    call()
    requests.report()
    assert requests.statuses[200] >= 10, requests.statuses


# Cheap formats mostly; the map formats draw, which takes longer.
EXPORT_FORMATS = ["csv", "csv-plain", "xlsx", "geojson", "chart-svg", "svg"]
EXPORT_PARAMS = st.fixed_dictionaries(
    {"format": one_of(EXPORT_FORMATS), "selection": SELECTIONS},
    optional={
        "title": st.one_of(junk, NUL),
        "column": one_of(VARIABLES),
        "compare": one_of(DATES, BAD_DATES),
        "method": one_of(list(METHODS)),
        "k": st.one_of(st.integers(1, 11).map(str), junk, st.just(HUGE)),
        "breaks": st.lists(st.one_of(NUMBERS, junk), max_size=6).map(";".join),
    },
)
CHART_PARAMS = st.fixed_dictionaries(
    {"selection": SELECTIONS},
    optional={
        "x": one_of(VARIABLES),
        "y": one_of([*VARIABLES, "D1"]),
        "column": one_of([*VARIABLES, "D1"]),
        "units": st.one_of(st.just("01,02"), junk, NUL),
        "unit": one_of(["01", "0110", "011001", "01100101", "11000000"]),
    },
)


def test_export_and_chart_parameters_never_cause_a_server_error(
    token_client, ewr_imported
):
    requests = Requests("export and charts")

    @settings(FUZZ, max_examples=80)
    @given(params=EXPORT_PARAMS)
    def export(params):
        response = token_client.get("/analysis/export/", params)
        requests.record(response, params)

    @settings(FUZZ, max_examples=40)
    @given(
        kind=one_of(["scatter", "ranking", "timeseries", "agestructure"]),
        params=CHART_PARAMS,
    )
    def chart(kind, params):
        url = f"/analysis/charts/{kind}.svg"
        response = token_client.get(url, params)
        requests.record(response, (url, params))

    export()
    chart()
    for params in ({}, {"selection": "\x00"}, {"q": HUGE}):
        requests.record(token_client.get("/analysis/analyse/", params), params)
    requests.report()
    assert requests.statuses[200] >= 20, requests.statuses


SAVED_QUERY_FORMS = st.fixed_dictionaries(
    {
        "title": mostly(st.just("Anfrage"), st.one_of(junk, NUL)),
        "sharing": one_of(["private", "all"]),
    },
    optional={
        "level": one_of(LEVELS, BAD_LEVELS),
        "columns": st.lists(one_of(VARIABLES), max_size=3).map(",".join),
        "date": one_of(DATES, BAD_DATES),
        "conditions": st.lists(
            st.tuples(one_of(VARIABLES), one_of([">", "<"]), NUMBERS).map(" ".join),
            max_size=2,
        ).map("\n".join),
        "within": one_of(["", "01"]),
        "selection_json": st.one_of(
            SELECTIONS,
            SELECTION_DICTS.map(lambda d: json.dumps(d).replace('"E_E"', "NaN")),
            st.sampled_from(["[" * 10_000, "NaN", "null"]),
        ),
        "presentation_json": st.one_of(
            st.dictionaries(junk, st.one_of(st.floats(), junk, NUL), max_size=3).map(
                json.dumps
            ),
            junk,
        ),
    },
)
SAVED_QUERY_BODIES = st.fixed_dictionaries(
    {"title": mostly(st.just("Anfrage"), NUL), "selection": SELECTION_DICTS},
    optional={
        "presentation": st.dictionaries(
            st.one_of(junk, NUL), st.one_of(st.floats(), junk, NUL), max_size=3
        ),
        "sharing": one_of(["private", "all"]),
    },
)


def test_saved_query_api_and_form_never_cause_a_server_error(
    token_client, ewr_imported
):
    requests = Requests("saved queries")

    @settings(FUZZ, max_examples=50)
    @given(data=SAVED_QUERY_FORMS)
    def form(data):
        response = token_client.post("/queries/new/", data)
        requests.record(response, data)

    @settings(FUZZ, max_examples=50)
    @given(body=SAVED_QUERY_BODIES)
    def api(body):
        # json.dumps writes NaN and Infinity as JavaScript does; parsers accept them.
        response = token_client.post(
            "/api/queries/", json.dumps(body), content_type="application/json"
        )
        requests.record(response, body)

    form()
    api()
    requests.report()
    assert requests.statuses[201] >= 3, requests.statuses


COORDINATES = mostly(
    st.tuples(st.floats(13.1, 13.7), st.floats(52.35, 52.65)),
    st.tuples(
        st.one_of(st.floats(), st.floats(370_000, 415_000), st.integers(10**300)),
        st.one_of(st.floats(), st.floats(5_800_000, 5_840_000)),
    ),
)
RINGS = st.lists(COORDINATES, min_size=3, max_size=6).map(
    lambda points: [[list(p) for p in [*points, points[0]]]]
)
CRS = st.sampled_from(
    [
        None,
        None,
        "EPSG:4326",
        "EPSG:25833",
        "urn:ogc:def:crs:EPSG::25833",
        "urn:ogc:def:crs:OGC:1.3:CRS84",
        "EPSG:3857",
        "\x00",
        5,
    ]
)


def _collection(rings, crs, name) -> str:
    collection: dict = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": name},
                "geometry": {"type": "Polygon", "coordinates": rings},
            }
        ],
    }
    if crs is not None:
        collection["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(collection)


AREA_FORMS = st.fixed_dictionaries(
    {"name": mostly(st.just("QM"), NUL), "kind": one_of(["qm", "other"])},
    optional={
        "keys": mostly(
            st.just("A: 01"),
            st.tuples(st.one_of(junk, NUL), one_of(["01", "0110", "99"])).map(
                ": ".join
            ),
        ),
        "polygons": st.one_of(
            st.builds(_collection, RINGS, CRS, st.one_of(junk, NUL)),
            st.sampled_from(["[" * 10_000, "{}", '{"features": 5}', "NaN"]),
        ),
    },
)


def test_custom_area_form_never_causes_a_server_error(token_client, ewr_imported):
    requests = Requests("custom areas")

    @settings(FUZZ, max_examples=60)
    @given(data=AREA_FORMS)
    def form(data):
        if "polygons" in data:
            data = {
                **data,
                "polygons": SimpleUploadedFile(
                    "gebiet.geojson", data["polygons"].encode("utf-8", "surrogatepass")
                ),
            }
        response = token_client.post("/analysis/areas/new/", data)
        requests.record(response, data)

    form()
    requests.report()
    # Valid areas are created (a redirect), the rest are form errors.
    assert requests.statuses[302] >= 3, requests.statuses


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
