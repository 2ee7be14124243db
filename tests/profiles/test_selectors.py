"""The generated analysis part on the real EWR data, checked against /api/values/."""

from __future__ import annotations

import json
from datetime import date

import pytest

from datapool.models import ImportRun
from datapool.services.imports import import_run_create, import_run_execute
from lor.models import LorUnit
from profiles.analysis import profile_analysis_build, profile_facility_counts
from profiles.selectors import profile_document_for_region, profile_region_get
from tests.profiles.conftest import (
    REGION,
    ewr_import,
    ewr_variant,
    indicators_compute,
)

pytestmark = pytest.mark.django_db


def _api(client, variable, level, **params) -> dict:
    response = client.get(
        "/api/values/", {"variable": variable, "level": level, **params}
    )
    assert response.status_code == 200, response.content
    return {row["code"]: row for row in response.json()["results"]}


def _indicator(analysis: dict, key: str) -> dict:
    return next(
        i
        for theme in analysis["themes"]
        for i in theme["indicators"]
        if i["key"] == key
    )


def test_analysis_is_json_serialisable_and_has_the_contract_keys(indicators_2024):
    analysis = profile_analysis_build(region=profile_region_get(code=REGION))
    assert json.loads(json.dumps(analysis)) == analysis
    assert set(analysis) >= {
        "region",
        "ref_date",
        "previous_date",
        "facts",
        "themes",
        "maps",
        "series",
        "age_structure",
        "mss",
        "facilities",
        "sources",
        "licenses",
    }
    assert analysis["region"] == {
        "code": "011001",
        "name": "Tiergarten Süd",
        "bezirk_code": "01",
        "bezirk_name": "Mitte",
    }
    assert analysis["ref_date"] == "2024-12-31"
    assert analysis["previous_date"] is None
    assert [p["code"] for p in analysis["facts"]["planungsraeume"]] == [
        "01100101",
        "01100102",
        "01100103",
        "01100104",
    ]


def test_residents_share_under_18_and_rank_match_the_values_api(
    indicators_2024, client_logged_in
):
    analysis = profile_analysis_build(region=profile_region_get(code=REGION))

    residents = _api(client_logged_in, "E_E", "bezirksregion")[REGION]
    assert analysis["facts"]["residents"] == residents["value"] == 16293
    assert analysis["facts"]["residents_status"] == "ok"
    assert analysis["facts"]["density"] == pytest.approx(
        16293 / analysis["facts"]["area_km2"], rel=1e-4
    )

    u18 = _indicator(analysis, "KI_ANTEIL_U18")
    regions = _api(client_logged_in, "KI_ANTEIL_U18", "bezirksregion")
    assert u18["status"] == "ok"
    assert u18["value"] == pytest.approx(regions[REGION]["value"], abs=1e-9)
    assert u18["value"] == pytest.approx(13.2756, abs=1e-4)
    bezirk = _api(client_logged_in, "KI_ANTEIL_U18", "bezirk")["01"]
    berlin = _api(client_logged_in, "KI_ANTEIL_U18", "berlin")["11000000"]
    assert u18["district"] == pytest.approx(bezirk["value"])
    assert u18["berlin"] == pytest.approx(berlin["value"])
    assert u18["berlin"] == pytest.approx(16.2642, abs=1e-4)

    # Rank 1 is the highest share among Mitte's Bezirksregionen.
    mitte = sorted(
        (row["value"] for code, row in regions.items() if code.startswith("01")),
        reverse=True,
    )
    assert u18["rank"] == mitte.index(regions[REGION]["value"]) + 1 == 8
    assert u18["rank_of"] == len(mitte) == 10
    assert u18["direction"] == "neutral"

    # The map of the region's Planungsräume carries the same values as the API.
    plr = _api(client_logged_in, "KI_ANTEIL_U18", "planungsraum")
    u18_map = next(m for m in analysis["maps"] if m["key"] == "KI_ANTEIL_U18")
    assert set(u18_map["values"]) == {
        p["code"] for p in analysis["facts"]["planungsraeume"]
    }
    for code, cell in u18_map["values"].items():
        assert cell["value"] == pytest.approx(plr[code]["value"])

    # Age bands are the region's counts and add up to its residents.
    bands = analysis["age_structure"]
    assert bands[0]["band"] == "0" and bands[-1]["band"] == "95+"
    assert sum(b["value"] for b in bands) == residents["value"]


def test_direction_is_translated_for_the_contract(indicators_2024):
    analysis = profile_analysis_build(region=profile_region_get(code=REGION))
    assert _indicator(analysis, "KI_KINDERARMUT")["direction"] == "lower_better"
    assert _indicator(analysis, "KI_GRUEN")["direction"] == "higher_better"


def test_planungsraum_only_indicators_say_missing_not_zero(indicators_2024):
    analysis = profile_analysis_build(region=profile_region_get(code=REGION))
    kinderarmut = _indicator(analysis, "KI_KINDERARMUT")
    assert kinderarmut["value"] is None and kinderarmut["status"] == "missing"
    assert kinderarmut["rank"] is None


def test_suppressed_and_below_minimum_values_say_so(indicators_2024, tmp_path):
    # A constructed delivery of school-entry examinations per Bezirksregion:
    # 011001 has its count suppressed, 011002 examined fewer than the minimum of 30.
    path = tmp_path / "esu_bzr.csv"
    path.write_text(
        "BZR;untersucht;auffaellig\n011001;140;NA\n011002;12;3\n011003;210;40\n",
        encoding="utf-8",
    )
    mapping = {
        "key_column": "BZR",
        "ref_date": "2024-12-31",
        "columns": {
            "untersucht": {"variable": "ESU_UNTERSUCHT", "new": _count("Untersucht")},
            "auffaellig": {"variable": "ESU_AUFFAELLIG", "new": _count("Auffällig")},
        },
    }
    run = import_run_execute(
        import_run=import_run_create(
            kind=ImportRun.Kind.TABLE,
            path=path,
            original_name=path.name,
            options=mapping,
        )
    )
    assert run.status == ImportRun.Status.SUCCEEDED, run.report
    indicators_compute()

    suppressed = _indicator(
        profile_analysis_build(region=profile_region_get(code="011001")), "KI_ESU"
    )
    assert suppressed["status"] == "suppressed"
    assert suppressed["value"] is None and suppressed["rank"] is None
    below = _indicator(
        profile_analysis_build(region=profile_region_get(code="011002")), "KI_ESU"
    )
    assert below["status"] == "below_min" and below["value"] is None
    shown = _indicator(
        profile_analysis_build(region=profile_region_get(code="011003")), "KI_ESU"
    )
    assert shown["status"] == "ok"
    assert shown["value"] == pytest.approx(40 / 210 * 100)
    # The only Mitte region with a value ranks first of one.
    assert (shown["rank"], shown["rank_of"]) == (1, 1)


def _count(name: str) -> dict:
    return {
        "name": name,
        "theme": "gesundheit",
        "unit": "Kinder",
        "value_type": "count",
        "aggregation": "sum",
    }


def test_change_since_previous_date_matches_the_compare_api(
    indicators_2024, tmp_path, client_logged_in
):
    # A constructed earlier delivery (every count 4 % lower, rounded per cell).
    ewr_import(ewr_variant(tmp_path, zeit="202312", factor=0.96, name="ewr2023.csv"))
    indicators_compute()
    analysis = profile_analysis_build(region=profile_region_get(code=REGION))
    assert analysis["previous_date"] == "2023-12-31"
    u18 = _indicator(analysis, "KI_ANTEIL_U18")
    change = _api(
        client_logged_in,
        "KI_ANTEIL_U18",
        "bezirksregion",
        date="2024-12-31",
        compare="2023-12-31",
    )[REGION]
    assert u18["previous_date"] == "2023-12-31"
    assert u18["change"] == pytest.approx(change["value"], abs=1e-9)
    assert u18["change"] == pytest.approx(u18["value"] - u18["previous"])
    residents = next(s for s in analysis["series"] if s["key"] == "E_E")
    assert [p["date"] for p in residents["points"]] == ["2023-12-31", "2024-12-31"]
    assert residents["points"][1]["region"] == 16293
    assert residents["points"][1]["berlin"] == 3_897_145
    # Asking for the earlier date gives that edition of the numbers.
    earlier = profile_analysis_build(
        region=profile_region_get(code=REGION), ref_date=date(2023, 12, 31)
    )
    assert earlier["previous_date"] is None
    assert (
        earlier["facts"]["residents"]
        == _api(client_logged_in, "E_E", "bezirksregion", date="2023-12-31")[REGION][
            "value"
        ]
    )


def test_document_for_region_without_adopted_edition_has_no_goals(indicators_2024):
    document = profile_document_for_region(region=profile_region_get(code=REGION))
    assert document["edition"] is None and document["goals"] == []
    assert document["analysis"]["facts"]["residents"] == 16293


def test_mss_classes_and_facility_counts_of_the_planungsraeume(
    indicators_2024, admin_user
):
    from django.core.management import call_command

    from datapool.selectors import facility_list
    from tests.conftest import SHARED_DATA, jfe_import

    call_command(
        "datapool_import", str(SHARED_DATA / "mss2021_indizes_plr.csv"), verbosity=0
    )
    jfe_import()
    region = profile_region_get(code=REGION)
    analysis = profile_analysis_build(region=region)
    # As published in mss2021_indizes_plr.csv (SI_N / DI_N).
    assert [(p["code"], p["status"], p["dynamics"]) for p in analysis["mss"]] == [
        ("01100101", "mittel", "negativ"),
        ("01100102", "hoch", "stabil"),
        ("01100103", "mittel", "stabil"),
        ("01100104", "mittel", "stabil"),
    ]
    assert analysis["mss"][0]["status_index"] == "2"
    assert analysis["mss_date"] == "2020-12-31"
    [jfe] = analysis["facilities"]
    assert jfe["layer"] == "jfe"
    in_region = facility_list(user=admin_user, layer="jfe", unit=region)
    assert jfe["count"] == in_region.count()
    # Counts add up: every facility lies in exactly one Bezirksregion.
    regions = LorUnit.objects.filter(level="bezirksregion", scheme="LOR 2021")
    counts = [profile_facility_counts(region=r)[0]["count"] for r in regions]
    assert sum(counts) == facility_list(user=admin_user, layer="jfe").count() == 407


def test_map_cells_say_suppressed_or_below_minimum(indicators_2024, client_logged_in):
    # 03400831 is delivered fully suppressed in the real matrix; 03300515
    # (Blankenburger Süden) has fewer than 300 residents.
    suppressed = profile_analysis_build(region=profile_region_get(code="034008"))
    cell = _map_cell(suppressed, "KI_ANTEIL_U18", "03400831")
    assert cell == {"value": None, "status": "suppressed"}
    api = _api(client_logged_in, "KI_ANTEIL_U18", "planungsraum")["03400831"]
    assert api["status"] == "suppressed"
    small = profile_analysis_build(region=profile_region_get(code="033005"))
    assert _map_cell(small, "KI_ANTEIL_U18", "03300515") == {
        "value": None,
        "status": "below_min",
    }
    # The region itself is above the minimum and shows its value.
    assert _indicator(small, "KI_ANTEIL_U18")["status"] == "ok"


def _map_cell(analysis: dict, key: str, code: str) -> dict:
    return next(m for m in analysis["maps"] if m["key"] == key)["values"][code]


def test_level_rows_are_shared_between_regions_but_never_outlive_an_import(
    indicators_2024, tmp_path, client_logged_in, django_assert_max_num_queries
):
    profile_analysis_build(region=profile_region_get(code=REGION))
    # The district's and Berlin's rows and the ranks' level rows are memoised:
    # another region of the same Datenpool state only asks for its own things.
    # The funding chapter's reads (two ``funding_by_unit`` tables, about 30
    # queries) are not memoised: a change of the funding register does not
    # change the Datenpool's version, and stale euros are worse than queries.
    with django_assert_max_num_queries(55):
        other = profile_analysis_build(region=profile_region_get(code="011002"))
    assert (
        other["facts"]["residents"]
        == (_api(client_logged_in, "E_E", "bezirksregion")["011002"]["value"])
    )
    before = profile_analysis_build(region=profile_region_get(code=REGION))

    # A corrected delivery for the same date (every count 10 % higher).
    ewr_import(ewr_variant(tmp_path, zeit="202412", factor=1.1, name="fix.csv"))
    indicators_compute()
    after = profile_analysis_build(region=profile_region_get(code=REGION))

    api = _api(client_logged_in, "E_E", "bezirksregion")[REGION]["value"]
    assert after["facts"]["residents"] == api != before["facts"]["residents"]
    u18 = _indicator(after, "KI_ANTEIL_U18")
    api_u18 = _api(client_logged_in, "KI_ANTEIL_U18", "bezirk")["01"]["value"]
    assert u18["district"] == pytest.approx(api_u18, abs=1e-9)
