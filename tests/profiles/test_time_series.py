"""The profile across the LOR reform: change since an earlier date, estimated marks,
series charts with the reform marker (HTML and PDF)."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from datapool.models import Observation, Variable
from datapool.services.observations import coverage_refresh
from explorer import graphics
from profiles.analysis import profile_analysis_build
from profiles.charts import series_figure
from profiles.rendering import profile_pdf_context
from profiles.selectors import profile_document_for_region, profile_region_get
from tests.factories import ObservationFactory
from tests.factories.lor import real_unit
from tests.profiles.conftest import REGION

pytestmark = pytest.mark.django_db

OLD_DATE = date(2019, 12, 31)


@pytest.fixture
def converted_2019(indicators_2024):
    """KI_ANTEIL_U18 and E_E of the region on 31.12.2019, converted (estimated)."""
    for key, value in (("KI_ANTEIL_U18", 12.5), ("E_E", 15000.0)):
        variable = Variable.objects.get(key=key)
        ObservationFactory(
            variable=variable,
            unit=real_unit(REGION),
            ref_date=OLD_DATE,
            value=value,
            status=Observation.Status.ESTIMATED,
        )
        coverage_refresh(variable_ids=[variable.id], ref_dates=[OLD_DATE])


def _indicator(analysis, key):
    rows = [i for theme in analysis["themes"] for i in theme["indicators"]]
    return next(i for i in rows if i["key"] == key)


def test_change_is_filled_from_the_earlier_date_and_marked_estimated(converted_2019):
    analysis = profile_analysis_build(region=profile_region_get(code=REGION))
    u18 = _indicator(analysis, "KI_ANTEIL_U18")
    assert u18["previous_date"] == "2019-12-31"
    assert u18["previous"] == 12.5
    assert u18["change"] == pytest.approx(u18["value"] - 12.5)
    assert u18["change_estimated"] is True and u18["estimated"] is False
    # An indicator without an earlier value has no change, and nothing estimated.
    other = _indicator(analysis, "KI_ANTEIL_65PLUS")
    assert other["change"] is None and other["change_estimated"] is False
    residents = next(s for s in analysis["series"] if s["key"] == "E_E")
    first = residents["points"][0]
    assert first["date"] == "2019-12-31"
    assert first["estimated"] == {"region": True, "district": False, "berlin": False}
    assert residents["points"][-1]["estimated"]["region"] is False


def test_series_chart_of_the_profile_marks_reform_and_estimated(converted_2019):
    analysis = profile_analysis_build(region=profile_region_get(code=REGION))
    residents = next(s for s in analysis["series"] if s["key"] == "E_E")
    figure = series_figure(series=residents)
    ax = figure.axes[0]
    assert graphics.REFORM_GID in [a.get_gid() for a in ax.get_children()]
    dashed = [a for a in ax.lines if a.get_gid() == graphics.ESTIMATED_SEGMENT_GID]
    assert len(dashed) == 1  # the region's line from 2019 to 2024
    assert list(dashed[0].get_xdata()) == [OLD_DATE, date(2024, 12, 31)]
    assert "geschätzt (umgerechnet aus LOR 2006)" in [
        t.get_text() for t in ax.get_legend().get_texts()
    ]


def test_profile_html_and_pdf_show_the_estimated_change(
    converted_2019, client_logged_in
):
    response = client_logged_in.get(reverse("profiles:region", args=[REGION]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="change-estimated"' in html
    assert "seit 31.12.2019" in html
    assert 'data-testid="reform-row"' in html and "LOR-Reform 2021" in html
    assert "* geschätzt (umgerechnet aus LOR 2006)" in html
    document = profile_document_for_region(region=profile_region_get(code=REGION))
    context = profile_pdf_context(document=document, variant="full")
    rows = {r["key"]: r for theme in context["themes"] for r in theme["rows"]}
    assert rows["KI_ANTEIL_U18"]["change_estimated"] is True
    assert rows["KI_ANTEIL_U18"]["change"] != "–"
    assert context["series_charts"]  # drawn with the marker (see the test above)


def test_profile_pdf_names_the_estimated_change(converted_2019, tmp_path):
    from profiles.rendering import profile_pdf_render
    from tests.profiles.test_pdf import _text

    document = profile_document_for_region(region=profile_region_get(code=REGION))
    path = tmp_path / "profil.pdf"
    path.write_bytes(profile_pdf_render(document=document, variant="full"))
    text = " ".join(_text(path).split())
    # The legend note says what "geschätzt" means …
    assert "aus LOR 2006 umgerechnet" in text
    # … and the U18 row's change cell carries it (the PDF's own template).
    from django.template.loader import render_to_string

    context = profile_pdf_context(document=document, variant="full")
    html = render_to_string("profiles/pdf/full.html", context)
    row = html[html.index("Anteil der Einwohner unter 18") :]
    row = row[: row.index("</tr>")]
    assert 'class="small estimated"' in row
