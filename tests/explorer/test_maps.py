"""Thematic maps: classification, simplified web geometry, the map APIs."""

from __future__ import annotations

import gzip
import json
from datetime import date

import mapclassify
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from datapool.models import Variable
from datapool.selectors import observation_values
from explorer.maps.classify import (
    ClassificationError,
    classify,
    palette_colors,
)
from explorer.maps.geometry import lor_web_geometry

pytestmark = pytest.mark.django_db

EWR_DATE = date(2024, 12, 31)
SUPPRESSED_PLR = "03400831"
GEOMETRY_URL = "/api/maps/geometry/{}/"
VALUES_URL = "/api/maps/values/"


def _ewr_rows():
    variable = Variable.objects.get(key="E_E")
    return observation_values(
        variable=variable, level="planungsraum", ref_date=EWR_DATE
    )


@pytest.mark.parametrize(
    ("method", "reference"),
    [
        ("quantiles", lambda y: mapclassify.Quantiles(y, k=5)),
        ("equal_interval", lambda y: mapclassify.EqualInterval(y, k=5)),
        ("natural_breaks", lambda y: mapclassify.FisherJenks(y, k=5)),
        (
            "std_mean",
            lambda y: mapclassify.StdMean(y, multiples=[-2, -1, 1, 2]),
        ),
        ("manual", lambda y: mapclassify.UserDefined(y, bins=[2000, 5000, 9000])),
    ],
)
def test_classify_matches_mapclassify_on_ewr_values(ewr_imported, method, reference):
    rows = _ewr_rows()
    result = classify(
        [r.value for r in rows],
        [r.status for r in rows],
        method,
        5,
        [2000, 5000, 9000],
    )
    classified = [r for r in rows if r.status in ("ok", "estimated")]
    expected = reference(np.asarray([r.value for r in classified], dtype=float))
    assert result.breaks == pytest.approx(list(expected.bins))
    assert result.counts == list(expected.counts)
    got = [c for c, r in zip(result.classes, rows, strict=True) if r in classified]
    assert got == list(expected.yb)
    assert sum(result.counts) + result.suppressed + result.missing == 542


def test_classify_never_gives_a_suppressed_unit_a_class(ewr_imported):
    rows = _ewr_rows()
    index = [r.code for r in rows].index(SUPPRESSED_PLR)
    assert rows[index].status == "suppressed"
    result = classify([r.value for r in rows], [r.status for r in rows], "quantiles", 5)
    assert result.classes[index] is None
    assert result.suppressed == sum(1 for r in rows if r.status == "suppressed") >= 1


def test_classify_reduces_k_when_too_few_distinct_values():
    result = classify([1, 1, 2, 2, None], ["ok"] * 4 + ["missing"], "quantiles", 5)
    assert result.k == 2
    assert result.missing == 1
    assert "verringert" in result.notes[0]


@pytest.mark.parametrize(
    ("method", "k", "breaks", "message"),
    [
        ("quantiles", 2, None, "zwischen 3 und 9"),
        ("quantiles", 10, None, "zwischen 3 und 9"),
        ("median", 5, None, "Unbekannte Klassifikationsmethode"),
        ("manual", 5, [3, 2], "aufsteigend"),
        ("manual", 5, [], "mindestens eine Grenze"),
    ],
)
def test_classify_rejects_bad_input_in_german(method, k, breaks, message):
    with pytest.raises(ClassificationError, match=message):
        classify([1.0, 2.0, 3.0, 4.0], ["ok"] * 4, method, k, breaks)


def test_palette_colors_sample_k_distinct_colorbrewer_colours():
    colors = palette_colors("YlGnBu", 7)
    assert len(set(colors)) == 7
    assert all(c.startswith("#") and len(c) == 7 for c in colors)


def test_plr_geometry_keeps_neighbours_together_and_is_small(client_logged_in):
    response = client_logged_in.get(
        GEOMETRY_URL.format("planungsraum"), HTTP_ACCEPT_ENCODING="gzip"
    )
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert len(response.content) <= 400 * 1024
    collection = json.loads(gzip.decompress(response.content))
    features = collection["features"]
    assert len(features) == 542
    assert set(features[0]["properties"]) == {"code", "name", "parent_code"}

    to_utm = Transformer.from_crs(4326, 25833, always_xy=True)
    geoms = {
        f["properties"]["code"]: shapely.transform(
            shapely.from_geojson(json.dumps(f["geometry"])),
            lambda c: np.column_stack(to_utm.transform(c[:, 0], c[:, 1])),
        )
        for f in features
    }
    assert all(g.is_valid for g in geoms.values())
    # Two Planungsräume in the same Bezirksregion of Mitte still share an edge.
    first, second = sorted(c for c in geoms if c.startswith("011001"))[:2]
    assert geoms[first].intersection(geoms[second]).length > 10
    # No overlaps and no slivers: the union is as large as the parts together,
    # has no holes, and matches Berlin's area (891.1 km²).
    union = shapely.union_all(list(geoms.values()))
    total = sum(g.area for g in geoms.values())
    assert union.area == pytest.approx(total, rel=1e-6)
    assert union.area == pytest.approx(891.1e6, rel=0.005)
    holes = [
        ring
        for poly in getattr(union, "geoms", [union])
        for ring in poly.interiors
        if shapely.Polygon(ring).area > 1
    ]
    assert holes == []


def test_geometry_answers_304_for_its_etag(client_logged_in):
    first = client_logged_in.get(GEOMETRY_URL.format("bezirk"))
    assert first.status_code == 200
    assert len(json.loads(first.content)["features"]) == 12
    assert "no-cache" in first["Cache-Control"]
    again = client_logged_in.get(
        GEOMETRY_URL.format("bezirk"), HTTP_IF_NONE_MATCH=first["ETag"]
    )
    assert again.status_code == 304
    versioned = client_logged_in.get(
        GEOMETRY_URL.format("bezirk"), {"v": first["ETag"].strip('"')}
    )
    assert "immutable" in versioned["Cache-Control"]


def test_geometry_rejects_unknown_level_and_anonymous_users(client, user):
    assert client.get(GEOMETRY_URL.format("planungsraum")).status_code in (401, 403)
    client.force_login(user)
    response = client.get(GEOMETRY_URL.format("kiez"))
    assert response.status_code == 400
    assert "Unbekannte Ebene" in response.json()["level"]
    assert client.get(GEOMETRY_URL.format("custom:999999")).status_code == 404


def test_web_geometry_is_cached_per_level():
    assert lor_web_geometry(level="bezirk") is lor_web_geometry(level="bezirk")


def test_map_values_classify_542_planungsraeume(ewr_imported, client_logged_in):
    response = client_logged_in.get(
        VALUES_URL,
        {"variable": "E_E", "level": "planungsraum", "method": "natural_breaks"},
    )
    assert response.status_code == 200
    data = response.json()
    assert data["date"] == "2024-12-31"
    assert data["dates"] == ["2024-12-31"]
    results = data["results"]
    assert len(results) == 542
    legend = data["legend"]
    assert len(legend["classes"]) == legend["k"] == 5
    counted = sum(c["count"] for c in legend["classes"])
    assert counted + legend["suppressed"]["count"] + legend["missing"]["count"] == 542
    assert legend["suppressed"]["count"] >= 1
    assert legend["suppressed"]["label"] == "gesperrt"
    assert legend["missing"]["label"] == "keine Daten"
    suppressed = next(r for r in results if r["code"] == SUPPRESSED_PLR)
    assert suppressed["status"] == "suppressed"
    assert suppressed["class"] is None
    assert all(
        (r["class"] is None) == (r["status"] not in ("ok", "estimated"))
        for r in results
    )
    # The same numbers as /api/values/.
    plain = client_logged_in.get(
        "/api/values/", {"variable": "E_E", "level": "planungsraum"}
    ).json()["results"]
    assert [(r["code"], r["value"], r["status"]) for r in plain] == [
        (r["code"], r["value"], r["status"]) for r in results
    ]


def test_map_values_manual_breaks(ewr_imported, client_logged_in):
    response = client_logged_in.get(
        VALUES_URL,
        {
            "variable": "E_E",
            "level": "bezirk",
            "method": "manual",
            "breaks": "300000,350000",
            "palette": "PuOr",
        },
    )
    assert response.status_code == 200
    legend = response.json()["legend"]
    assert [c["upper"] for c in legend["classes"]][:2] == [300000, 350000]
    assert sum(c["count"] for c in legend["classes"]) == 12


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"level": "planungsraum"}, "variable"),
        ({"variable": "NOPE", "level": "planungsraum"}, "variable"),
        ({"variable": "E_E", "level": "kiez"}, "level"),
        ({"variable": "E_E", "level": "planungsraum", "k": "12"}, "k"),
        ({"variable": "E_E", "level": "planungsraum", "k": "drei"}, "k"),
        ({"variable": "E_E", "level": "planungsraum", "method": "median"}, "method"),
        ({"variable": "E_E", "level": "planungsraum", "palette": "jet"}, "palette"),
        (
            {"variable": "E_E", "level": "planungsraum", "method": "manual"},
            "method",
        ),
        (
            {
                "variable": "E_E",
                "level": "planungsraum",
                "method": "manual",
                "breaks": "1,zwei",
            },
            "breaks",
        ),
        ({"variable": "E_E", "level": "planungsraum", "date": "2020-01-01"}, "date"),
        ({"variable": "E_E", "level": "planungsraum", "date": "31.12.2024"}, "date"),
        (
            {"variable": "E_E", "level": "planungsraum", "compare": "2023-12-31"},
            "compare",
        ),
    ],
)
def test_map_values_bad_parameters_give_400(
    ewr_imported, client_logged_in, params, field
):
    response = client_logged_in.get(VALUES_URL, params)
    assert response.status_code == 400
    assert field in response.json()


def test_map_values_compare_maps_the_change(ewr_2023, client_logged_in):
    response = client_logged_in.get(
        VALUES_URL,
        {"variable": "E_E", "level": "planungsraum", "compare": "2023-12-31"},
    )
    assert response.status_code == 200
    data = response.json()
    assert data["dates"] == ["2023-12-31", "2024-12-31"]
    assert data["compare"] == "2023-12-31"
    assert data["legend"]["unit"] == "%"
    assert data["legend"]["palette"] == "RdBu"
    rows = {r["code"]: r for r in data["results"]}
    assert len(rows) == 542
    assert rows["01100101"]["value"] == pytest.approx((3580 / 3570 - 1) * 100)
    assert rows["01100101"]["class"] is not None
    assert rows[SUPPRESSED_PLR]["class"] is None
    legend = data["legend"]
    counted = sum(c["count"] for c in legend["classes"])
    assert counted + legend["suppressed"]["count"] + legend["missing"]["count"] == 542


def test_custom_area_set_is_a_geometry_level(client_logged_in):
    from lor.services.custom_areas import AreaSpec, custom_area_set_create

    area_set = custom_area_set_create(
        name="Testkulisse",
        kind="other",
        areas=[
            AreaSpec(name="Nord", keys=["01100101", "01100102"]),
            AreaSpec(name="Süd", keys=["01100103"]),
        ],
    )
    response = client_logged_in.get(GEOMETRY_URL.format(area_set.level_key))
    assert response.status_code == 200
    features = json.loads(response.content)["features"]
    assert [f["properties"]["name"] for f in features] == ["Nord", "Süd"]
