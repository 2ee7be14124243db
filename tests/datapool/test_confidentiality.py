"""Statistical confidentiality: a planner's downloads never give a suppressed cell back.

The real EWR matrix of 31.12.2024 has 72 Planungsräume with 3 residents aged 95
and over (E_E95_110); the AfS publishes counts of 1 to 3 as 3. With the rule
"counts below 4 suppressed" on that variable (threshold 4), a
planner downloads everything a planner can (values API at every level and for a
custom area set, map values, the explorer table, CSV/XLSX/GeoJSON exports, a
share built on it) and the test tries to recover every suppressed cell from the
published numbers: by simple differencing (total − shown children) and, more
generally, by solving the linear system of all published sums.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import numpy as np
import pytest
from openpyxl import load_workbook
from scipy.optimize import linprog

from core.access import Role
from datapool.confidentiality import pattern_compute
from datapool.models import (
    Confidentiality,
    Indicator,
    Observation,
    PublishedCell,
    Variable,
)
from datapool.selectors import observation_values
from datapool.services.indicators import indicator_run_create, indicator_run_execute
from datapool.services.published_cells import published_cells_record
from datapool.suppression_audit import LOWER_PROTECTION, upper_protection
from datapool.themes import ProfileTheme
from explorer.exports import EXCEL_TEXT_MARK
from lor.hierarchy import KEY_LENGTH
from lor.models import BERLIN_CODE, CustomAreaMember, LorUnit
from lor.services import AreaSpec, custom_area_set_create
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
DEC_2024 = date(2024, 12, 31)
KEY = "E_E95_110"
SHARE_KEY = "KI_TEST_ANTEIL_95PLUS"
LEVELS = ["planungsraum", "bezirksregion", "prognoseraum", "bezirk", "berlin"]


def _raw(key: str) -> dict[str, float]:
    """Stored values of the Planungsräume with a value (the sums' components)."""
    return dict(
        Observation.objects.filter(
            variable__key=key,
            ref_date=DEC_2024,
            unit__level="planungsraum",
            unit__scheme=LorUnit.Scheme.LOR_2021,
            status__in=["ok", "estimated"],
        ).values_list("unit__code", "value")
    )


@pytest.fixture
def confidential(ewr_imported):
    Variable.objects.filter(key=KEY).update(
        confidentiality=Confidentiality.SMALL_COUNTS, confidentiality_threshold=4
    )
    raw = _raw(KEY)
    small = sorted(c for c, v in raw.items() if 0 < v < 4)
    assert len(small) >= 10, "the real matrix should have small counts of 95+"
    return raw, small


@pytest.fixture
def computed(confidential):
    """Adversarial custom areas plus a share indicator on the confidential count."""
    raw, small = confidential
    share = Variable.objects.create(
        key=SHARE_KEY,
        name="Anteil der Einwohner ab 95 Jahren (Test)",
        unit="%",
        value_type=Variable.ValueType.SHARE,
        aggregation=Variable.Aggregation.NONE,
    )
    Indicator.objects.create(
        variable=share,
        theme=ProfileTheme.BEVOELKERUNG,
        formula=f"{KEY} / E_E * 100",
        denominator=Variable.objects.get(key="E_E"),
        min_denominator=0,
    )
    specs = []
    for code in small[:4]:
        region = [c for c in raw if c.startswith(code[:6])]
        specs += [
            AreaSpec(name=f"nur {code}", keys=[code]),
            AreaSpec(
                name=f"{code[:6]} ohne {code}", keys=[c for c in region if c != code]
            ),
            AreaSpec(name=f"ganz {code[:6]}", keys=[code[:6]]),
            AreaSpec(
                name=f"{code[:2]} ohne {code}",
                keys=[c for c in raw if c.startswith(code[:2]) and c != code],
            ),
        ]
    area_set = custom_area_set_create(name="Angriff", kind="other", areas=specs)
    run = indicator_run_create(custom_areas=True)
    indicator_run_execute(run=run)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    return raw, small, area_set


def _values(client, key: str, level: str) -> list[dict]:
    response = client.get("/api/values/", {"variable": key, "level": level})
    assert response.status_code == 200, response.content[:300]
    return response.json()["results"]


def _selection(level: str, derived: bool = False) -> str:
    data = {"level": level, "columns": [KEY, "E_E"], "date": DEC_2024.isoformat()}
    if derived:
        data["derived"] = [
            {"key": "anteil", "label": "Anteil 95+", "formula": f"{KEY} / E_E * 100"}
        ]
    return json.dumps(data)


class Published:
    """Everything a viewer was shown: per (level, code) a value or 'suppressed'."""

    def __init__(self):
        self.values: dict[tuple[str, str], float | None] = {}
        self.shares: dict[tuple[str, str], float] = {}
        self.residents: dict[tuple[str, str], float] = {}

    def add(self, level: str, code: str, value, suppressed: bool) -> None:
        shown = None if suppressed else float(value)
        if not suppressed:
            assert value is not None, (level, code)
        known = self.values.setdefault((level, code), shown)
        # Every output shows the same: one source cannot undo another's suppression.
        assert known == shown or (
            known is not None and shown is not None and abs(known - shown) < 1e-6
        ), (level, code, known, shown)


def _download_everything(client, area_set) -> Published:
    published = Published()
    levels = [*LEVELS, area_set.level_key]
    for level in levels:
        for row in _values(client, KEY, level):
            if row["status"] in ("ok", "estimated", "suppressed"):
                published.add(
                    level, row["code"], row["value"], row["status"] == "suppressed"
                )
            if row["status"] == "suppressed":
                assert row["value"] is None
        for row in _values(client, SHARE_KEY, level):
            if row["status"] in ("ok", "estimated"):
                published.shares[(level, row["code"])] = row["value"]
        for row in _values(client, "E_E", level):
            if row["value"] is not None:
                published.residents[(level, row["code"])] = row["value"]
        # The map.
        response = client.get("/api/maps/values/", {"variable": KEY, "level": level})
        assert response.status_code == 200, response.content[:300]
        for row in response.json()["results"]:
            if row["status"] in ("ok", "estimated", "suppressed"):
                published.add(
                    level, row["code"], row["value"], row["status"] == "suppressed"
                )
                if row["status"] == "suppressed":
                    assert row["class"] is None
        # The explorer table, with a derived share and the parent's values.
        response = client.get(
            "/api/analysis/table/", {"selection": _selection(level, derived=True)}
        )
        assert response.status_code == 200, response.content[:300]
        table = response.json()
        for row in table["rows"]:
            status = row[f"{KEY}__status"]
            if status in ("ok", "estimated", "suppressed"):
                published.add(level, row["code"], row[KEY], status == "suppressed")
            if row["anteil__status"] == "ok":
                published.shares[(level, row["code"])] = row["anteil"]
            parent = row[f"{KEY}__parent"]
            if parent is not None and table["parent_level"]:
                cut = KEY_LENGTH[table["parent_level"]]
                published.add(table["parent_level"], row["code"][:cut], parent, False)
        # Exports: German CSV, XLSX and GeoJSON.
        for fmt in ("csv", "xlsx", "geojson"):
            response = client.get(
                "/analysis/export/", {"format": fmt, "selection": _selection(level)}
            )
            assert response.status_code == 200, response.content[:300]
            for code, value, status in _export_rows(fmt, response.content):
                if status.startswith(("ok", "geschätzt", "gesperrt")):
                    published.add(level, code, value, status.startswith("gesperrt"))
                if status.startswith("gesperrt"):
                    assert value is None, (fmt, code, value)
    return published


def _export_rows(fmt: str, content: bytes):
    """(code, value of KEY, status text of KEY) per unit of an export."""
    if fmt == "geojson":
        for feature in json.loads(content)["features"]:
            props = feature["properties"]
            yield props["code"], props[KEY], props[f"{KEY}_status"]
        return
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    else:
        sheet = load_workbook(io.BytesIO(content)).active
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(rows) if r and r[0] == "Schlüssel")
    for row in rows[start + 1 :]:
        value = row[2]
        if fmt == "csv":
            value = float(value.replace(",", ".")) if value else None
        # The Excel CSV marks keys as text with a word joiner (explorer.exports).
        yield str(row[0]).removeprefix(EXCEL_TEXT_MARK), value, str(row[3])


def _members(level: str, code: str, plr_codes: list[str], area_set) -> list[str]:
    if level == "berlin":
        return plr_codes
    if level.startswith("custom:"):
        return list(
            CustomAreaMember.objects.filter(
                area__area_set=area_set, area__code=code
            ).values_list("planungsraum__code", flat=True)
        )
    return [c for c in plr_codes if c.startswith(code)]


def _recoverable(published: Published, raw: dict[str, float], area_set) -> set[str]:
    """Planungsräume whose value follows from the published sums and shares."""
    plr_codes = sorted(raw)
    index = {c: i for i, c in enumerate(plr_codes)}
    equations, rhs = [], []

    def equation(level: str, code: str, total: float) -> None:
        """The Planungsräume of the unit sum up to total."""
        row = np.zeros(len(plr_codes))
        for member in _members(level, code, plr_codes, area_set):
            if member in index:
                row[index[member]] = 1.0
        equations.append(row)
        rhs.append(total)

    for (level, code), value in published.values.items():
        if value is not None:
            equation(level, code, value)
    # A shown share times shown residents gives the count back.
    for (level, code), share in published.shares.items():
        residents = published.residents.get((level, code))
        if residents is not None:
            equation(level, code, share * residents / 100)
    matrix = np.array(equations)
    truth = np.array([raw[c] for c in plr_codes])
    # The published numbers are the true sums (no noise is added).
    assert np.allclose(matrix @ truth, np.array(rhs), atol=1e-6)
    _u, singular, vt = np.linalg.svd(matrix)
    rank = int((singular > 1e-9 * singular[0]).sum())
    null_space = vt[rank:].T
    determined = np.linalg.norm(null_space, axis=1) < 1e-9
    return {c for c, d in zip(plr_codes, determined, strict=True) if d}


def _narrowed(published, raw, area_set, cells, threshold) -> list:
    """Cells whose LP interval from the published sums misses the protection level."""
    plr_codes = sorted(raw)
    index = {c: i for i, c in enumerate(plr_codes)}
    equations, rhs = [], []
    for (level, code), value in published.values.items():
        if value is None:
            continue
        row = np.zeros(len(plr_codes))
        for member in _members(level, code, plr_codes, area_set):
            if member in index:
                row[index[member]] = 1.0
        equations.append(row)
        rhs.append(value)
    out = []
    for code in cells:
        objective = np.zeros(len(plr_codes))
        objective[index[code]] = 1.0
        bounds = []
        for sign in (1.0, -1.0):
            result = linprog(
                sign * objective,
                A_eq=np.array(equations),
                b_eq=np.array(rhs),
                bounds=(0, None),
                method="highs",
            )
            assert result.status in (0, 3), result.message
            bounds.append(-sign * np.inf if result.status == 3 else sign * result.fun)
        low, high = bounds
        value = raw[code]
        upper = value + upper_protection(value=value, threshold=threshold)
        if high < upper - 1e-6 or low > value - LOWER_PROTECTION + 1e-6:
            out.append((code, value, low, high))
    return out


def test_planner_downloads_never_reveal_a_suppressed_cell(computed, client_logged_in):
    raw, small, area_set = computed
    published = _download_everything(client_logged_in, area_set)
    # Cells the planner does not see although they have a value (the AfS's own
    # blanked Planungsräume have none and enter no sum).
    hidden = {
        code
        for (level, code), value in published.values.items()
        if level == "planungsraum" and value is None and code in raw
    }
    assert set(small) <= hidden
    # The scatter plot's pairs leave the suppressed cells out.
    scatter = client_logged_in.get(
        "/analysis/charts/scatter.svg",
        {"selection": _selection("planungsraum"), "x": "E_E", "y": KEY},
    )
    assert scatter.status_code == 200
    shown = [
        code
        for (level, code), value in published.values.items()
        if level == "planungsraum" and value is not None
    ]
    assert int(scatter["X-Pairs"]) == len(shown)
    # Berlin's total is the published total.
    assert published.values[("berlin", BERLIN_CODE)] == sum(raw.values())

    # Simple differencing: no shown total has exactly one hidden child.
    plr = sorted(raw)
    for (level, code), value in published.values.items():
        if value is None or level in ("planungsraum",):
            continue
        child_level = LEVELS[LEVELS.index(level) - 1] if level in LEVELS else None
        if child_level is None:  # a custom area: its members are Planungsräume
            members = _members(area_set.level_key, code, plr, area_set)
            assert not any(m in hidden for m in members), (code, "custom area")
            continue
        cut = KEY_LENGTH[child_level]
        children = {c[:cut] for c in plr if level == "berlin" or c.startswith(code)}
        hidden_children = [
            c for c in children if published.values.get((child_level, c)) is None
        ]
        assert len(hidden_children) != 1, (level, code, hidden_children)

    # Any combination of published sums, shares and custom areas, across levels.
    recovered = _recoverable(published, raw, area_set) & hidden
    assert not recovered, sorted(recovered)

    # Not even narrowed: with non-negativity, every small count's interval
    # reaches the threshold and one below its value (issue 15).
    narrowed = _narrowed(published, raw, area_set, sorted(set(small) & hidden), 4)
    assert not narrowed, narrowed


def test_suppressed_cells_are_flagged_in_every_format(computed, client_logged_in):
    raw, small, area_set = computed
    code = small[0]
    row = next(
        r for r in _values(client_logged_in, KEY, "planungsraum") if r["code"] == code
    )
    assert row["value"] is None and row["status"] == "suppressed"
    parent = next(
        r
        for r in _values(client_logged_in, KEY, "bezirksregion")
        if r["code"] == code[:6]
    )
    assert parent["status"] == "ok" and parent["contains_suppressed"] is True
    region_csv = client_logged_in.get(
        "/analysis/export/",
        {"format": "csv", "selection": _selection("bezirksregion")},
    ).content.decode("utf-8-sig")
    # The Excel CSV marks keys as text with a word joiner (explorer.exports).
    region_csv = region_csv.replace(EXCEL_TEXT_MARK, "")
    line = next(line for line in region_csv.splitlines() if line.startswith(code[:6]))
    assert line.split(";")[3] == "ok, enthält gesperrte Werte"
    selection = _selection("planungsraum")
    csv_text = (
        client_logged_in.get(
            "/analysis/export/", {"format": "csv", "selection": selection}
        )
        .content.decode("utf-8-sig")
        .replace(EXCEL_TEXT_MARK, "")
    )
    line = next(line for line in csv_text.splitlines() if line.startswith(code))
    assert line.split(";")[2:4] == ["", "gesperrt"]
    workbook = load_workbook(
        io.BytesIO(
            client_logged_in.get(
                "/analysis/export/", {"format": "xlsx", "selection": selection}
            ).content
        )
    )
    cells = next(r for r in workbook.active.iter_rows(values_only=True) if r[0] == code)
    assert cells[2] is None and cells[3] == "gesperrt"
    features = json.loads(
        client_logged_in.get(
            "/analysis/export/", {"format": "geojson", "selection": selection}
        ).content
    )["features"]
    props = next(f["properties"] for f in features if f["properties"]["code"] == code)
    assert props[KEY] is None and props[f"{KEY}_status"] == "gesperrt"
    # The custom area made of that one Planungsraum is suppressed, not 0.
    area = next(
        r
        for r in _values(client_logged_in, KEY, area_set.level_key)
        if r["name"] == f"nur {code}"
    )
    assert area["status"] == "suppressed" and area["value"] is None
    # The share on the suppressed count is suppressed too.
    share = next(
        r
        for r in _values(client_logged_in, SHARE_KEY, "planungsraum")
        if r["code"] == code
    )
    assert share["status"] == "suppressed" and share["value"] is None


def test_administrator_sees_raw_values(computed, client, administrator):
    raw, small, area_set = computed
    client.force_login(administrator)
    rows = {r["code"]: r for r in _values(client, KEY, "planungsraum")}
    for code in small:
        assert rows[code]["value"] == raw[code] and rows[code]["status"] == "ok"
    share = {r["code"]: r for r in _values(client, SHARE_KEY, "planungsraum")}
    assert share[small[0]]["status"] == "ok"


def test_map_cache_keeps_viewers_apart(confidential, client, administrator, user):
    raw, small = confidential
    params = {"variable": KEY, "level": "planungsraum"}

    def value_of(viewer):
        client.force_login(viewer)
        results = client.get("/api/maps/values/", params).json()["results"]
        return next(r for r in results if r["code"] == small[0])

    assert value_of(user)["status"] == "suppressed"
    assert value_of(administrator)["value"] == raw[small[0]]
    assert value_of(user)["value"] is None


def test_owning_coordinator_sees_raw_values_of_own_district_only(
    confidential, django_user_model, coordinator
):
    raw, small = confidential
    variable = Variable.objects.get(key=KEY)

    def values_for(viewer) -> dict:
        rows = observation_values(
            variable=variable, level="planungsraum", ref_date=DEC_2024, viewer=viewer
        )
        return {r.code: r for r in rows}

    shown = values_for(coordinator)
    # AfS data belong to no district: the coordinator sees them protected.
    assert shown[small[0]].status == "suppressed"
    variable.district = LorUnit.objects.get(
        scheme=LorUnit.Scheme.LOR_2021, level="bezirk", code="01"
    )
    variable.save()
    own = values_for(coordinator)
    assert own[small[0]].value == raw[small[0]]
    other = make_user(django_user_model, "koordination02", Role.COORDINATOR, "02")
    theirs = values_for(other)
    assert theirs[small[0]].status == "suppressed"


def test_no_viewer_means_suppressed(confidential):
    raw, small = confidential
    rows = {
        r.code: r
        for r in observation_values(
            variable=Variable.objects.get(key=KEY),
            level="planungsraum",
            ref_date=DEC_2024,
        )
    }
    assert rows[small[0]].status == "suppressed" and rows[small[0]].value is None


def test_age_structure_chart_refused_where_a_band_is_suppressed(
    confidential, client_logged_in, client, administrator
):
    raw, small = confidential
    url = "/analysis/charts/agestructure.svg"
    assert client_logged_in.get(url, {"unit": small[0]}).status_code == 400
    client.force_login(administrator)
    assert client.get(url, {"unit": small[0]}).status_code == 200


def test_auto_rule_protects_district_counts_only(ewr_imported):
    variable = Variable.objects.get(key=KEY)
    assert variable.confidentiality == Confidentiality.AUTO
    rows = observation_values(
        variable=variable, level="planungsraum", ref_date=DEC_2024
    )
    # AfS data are published anonymised: shown as delivered (only the AfS's own
    # blanked Planungsräume are suppressed).
    blanked = Observation.objects.filter(
        variable=variable, unit__level="planungsraum", status="suppressed"
    ).count()
    assert sum(r.status == "suppressed" for r in rows) == blanked
    # A district's upload: its counts below the threshold are suppressed.
    variable.district = LorUnit.objects.get(
        scheme=LorUnit.Scheme.LOR_2021, level="bezirk", code="01"
    )
    variable.confidentiality_threshold = 4
    variable.save()
    rows = observation_values(
        variable=variable, level="planungsraum", ref_date=DEC_2024
    )
    assert sum(r.status == "suppressed" for r in rows) > blanked + 72


def test_pattern_hides_an_only_child_with_its_parent():
    cells = {
        BERLIN_CODE: ("berlin", 100.0),
        "01": ("bezirk", 50.0),
        "02": ("bezirk", 50.0),
        "0110": ("prognoseraum", 50.0),
        "0210": ("prognoseraum", 50.0),
        "011001": ("bezirksregion", 1.0),
        "011002": ("bezirksregion", 49.0),
        "021001": ("bezirksregion", 50.0),
        "01100101": ("planungsraum", 1.0),
        "01100201": ("planungsraum", 0.0),
        "01100202": ("planungsraum", 49.0),
        "02100101": ("planungsraum", 50.0),
    }
    pattern = pattern_compute(cells=cells, threshold=3)
    assert pattern.primary == {"011001", "01100101"}
    # 011002 is the complement in 0110; it needs a hidden child: the smallest
    # non-zero one, not the zero (which would protect nothing).
    assert "011002" in pattern.hidden and "01100202" in pattern.hidden
    assert "01100201" not in pattern.hidden
    assert BERLIN_CODE not in pattern.hidden and "0110" in pattern.flagged


def test_pattern_ends_when_berlin_has_a_single_hidden_child():
    """Issue 15.1: the loop never ended; a district's only small total is hidden."""
    cells = {
        BERLIN_CODE: ("berlin", 2.0),
        "01": ("bezirk", 2.0),
        "0110": ("prognoseraum", 2.0),
        "0120": ("prognoseraum", 0.0),
        "011001": ("bezirksregion", 2.0),
        "012001": ("bezirksregion", 0.0),
        "01100101": ("planungsraum", 2.0),
        "01200101": ("planungsraum", 0.0),
    }
    pattern = pattern_compute(cells=cells, threshold=3)
    # Berlin's total is the district's: shown, it would give every level back.
    assert {"01", "0110", "011001", "01100101", BERLIN_CODE} <= pattern.hidden
    assert not pattern.exposed


def test_pattern_never_uses_a_published_value_as_complement():
    cells = {
        BERLIN_CODE: ("berlin", 300.0),
        "01": ("bezirk", 300.0),
        "0110": ("prognoseraum", 300.0),
        "011001": ("bezirksregion", 111.0),
        "011002": ("bezirksregion", 189.0),
        "01100101": ("planungsraum", 1.0),
        "01100102": ("planungsraum", 14.0),
        "01100103": ("planungsraum", 43.0),
        "01100104": ("planungsraum", 53.0),
        "01100201": ("planungsraum", 89.0),
        "01100202": ("planungsraum", 100.0),
    }
    free = pattern_compute(cells=cells, threshold=3)
    assert "01100102" in free.hidden  # the smallest sibling, 14
    pinned = {"01100102", "01100103", "01100104", "011002", "01100201", "01100202"}
    pattern = pattern_compute(cells=cells, threshold=3, known=pinned)
    assert not pattern.hidden & pinned and not pattern.exposed
    # No sibling is left to hide: the region goes, and with it its parents'.
    assert "011001" in pattern.hidden


def test_pinned_share_records_its_confidential_input(computed):
    raw, small, area_set = computed
    shown = next(c for c, v in sorted(raw.items()) if v >= 4)
    published_cells_record(
        level="planungsraum",
        columns=[{"key": SHARE_KEY, "date": DEC_2024.isoformat(), "derived": False}],
        rows=[
            {"code": shown, SHARE_KEY: 0.5, f"{SHARE_KEY}__status": "ok"},
            {"code": small[0], SHARE_KEY: None, f"{SHARE_KEY}__status": "suppressed"},
        ],
    )
    # The shown share and the shown residents give the count back: it is known.
    assert list(
        PublishedCell.objects.values_list("variable__key", "unit__code", "value")
    ) == [(KEY, shown, raw[shown])]


def test_pins_made_before_the_record_are_published_by_the_command(computed, user):
    from django.core.management import call_command
    from django.utils import timezone

    from queries.models import SavedQuery

    raw, _small, _area_set = computed
    shown = next(c for c, v in sorted(raw.items()) if v >= 4)
    # A pin from before published cells were recorded: its snapshot only.
    SavedQuery.objects.create(
        title="Alte Anfrage",
        owner=user,
        selection={"level": "planungsraum", "columns": [{"key": KEY}]},
        pinned=True,
        pinned_at=timezone.now(),
        snapshot={
            "columns": [{"key": KEY, "date": DEC_2024.isoformat(), "derived": False}],
            "rows": [{"code": shown, KEY: raw[shown], f"{KEY}__status": "ok"}],
        },
    )
    assert not PublishedCell.objects.exists()
    call_command("queries_publish_pins", verbosity=0)
    call_command("queries_publish_pins", verbosity=0)  # idempotent
    assert list(
        PublishedCell.objects.values_list("variable__key", "unit__code", "value")
    ) == [(KEY, shown, raw[shown])]
