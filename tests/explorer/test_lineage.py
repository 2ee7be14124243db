"""Attribution by lineage (issue 14, item 5): every file, map and profile that
shows an indicator names the sources of its inputs and of the LOR geometry.

KI_ANTEIL_U18 is computed by PRISMA from the AfS Einwohnerregister matrix (CC BY
3.0 DE); the units are the Geoportal's (dl-de/by-2-0). Neither may be missing
where the indicator leaves PRISMA, and PRISMA's own "berechnet aus dem
Datenpool" is no source to credit.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
from datetime import date

import pytest
from openpyxl import load_workbook
from PIL import Image

from datapool.lineage import SourceCredit, attribution, variable_lineage
from datapool.models import Variable
from datapool.parsers.ewr import LICENSE as EWR_LICENSE
from datapool.parsers.ewr import SOURCE as EWR_SOURCE
from explorer import exports
from explorer.selection import Selection, selection_evaluate
from lor.attribution import LOR_LICENSE, LOR_SOURCE
from tests.profiles.conftest import REGION, indicators_compute

pytestmark = pytest.mark.django_db

INDICATOR = "KI_ANTEIL_U18"
AFS = "Amt für Statistik Berlin-Brandenburg"
GEOPORTAL = "Geoportal Berlin"
PRISMA_COMPUTED = "PRISMA: berechnet aus dem Datenpool"
FRIEDRICHSHAIN_KREUZBERG = "02"


@pytest.fixture
def indicators(ewr_imported):
    return indicators_compute()


@pytest.fixture
def kreuzberg(indicators):
    """The indicator for the Planungsräume of Friedrichshain-Kreuzberg only."""
    selection = Selection(
        level="planungsraum", columns=[INDICATOR], within=FRIEDRICHSHAIN_KREUZBERG
    )
    return selection_evaluate(selection=selection)


def _pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "export.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _credits_afs_and_geoportal(text: str) -> None:
    text = " ".join(text.split())  # wrapped lines
    assert AFS in text and EWR_LICENSE in text
    assert GEOPORTAL in text and LOR_LICENSE in text
    assert PRISMA_COMPUTED not in text


def test_an_indicator_credits_the_inputs_it_is_computed_from(ewr_imported):
    indicators_compute()
    own = Variable.objects.get(key=INDICATOR)
    assert own.source == PRISMA_COMPUTED and not own.license

    assert variable_lineage(variables=[INDICATOR]) == [
        SourceCredit(EWR_SOURCE, EWR_LICENSE)
    ]
    # An indicator and its own input: one credit, not two.
    assert variable_lineage(variables=["E_E", own]) == [
        SourceCredit(EWR_SOURCE, EWR_LICENSE)
    ]
    credits = attribution(variables=[INDICATOR])
    assert credits.computed
    assert credits.sources == [EWR_SOURCE, LOR_SOURCE, "berechnet in PRISMA Berlin"]
    assert credits.licenses == [EWR_LICENSE, LOR_LICENSE]
    assert credits.line() == (
        f"Quellen: {EWR_SOURCE} ({EWR_LICENSE}); Geoportal Berlin / LOR "
        f"01.01.2021 ({LOR_LICENSE}) · berechnet in PRISMA Berlin"
    )
    # Delivered values are not computed; the undocumented say so.
    assert not attribution(variables=["E_E"]).computed
    Variable.objects.filter(key="E_E").update(source="", license="")
    assert [str(c) for c in variable_lineage(variables=["E_E"])] == [
        f"{AFS} (ohne Lizenzangabe)"  # the supplier of the delivery
    ]


def test_csv_and_xlsx_of_an_indicator_credit_afs_and_geoportal(kreuzberg):
    german, _type, german_name = exports.export_csv(result=kreuzberg, title="U18")
    plain, _type, plain_name = exports.export_csv(
        result=kreuzberg, title="U18", german=False
    )
    workbook, _type, _name = exports.export_xlsx(result=kreuzberg, title="U18")

    assert german_name != plain_name
    assert german_name.endswith(".csv") and plain_name.endswith(".csv")
    rows = list(csv.reader(io.StringIO(german.decode("utf-8-sig")), delimiter=";"))
    meta = {row[0]: row[1] for row in rows[:5]}
    _credits_afs_and_geoportal(meta["Quelle"] + meta["Lizenz"])
    assert meta["Titel"] == "U18 – Planungsräume in Friedrichshain-Kreuzberg"
    assert meta["Stichtag"] == "31.12.2024"  # the date, not "KI_ANTEIL_U18: …"
    # Keys keep their leading zero in German Excel: text, not digits.
    keys = [row[0] for row in rows[7:]]
    assert keys and all(k.startswith(exports.EXCEL_TEXT_MARK + "02") for k in keys)
    assert all(not k.isdigit() for k in keys)
    # The plain CSV keeps the keys as they are.
    plain_text = plain.decode("utf-8")
    assert "\n02" in plain_text and exports.EXCEL_TEXT_MARK not in plain_text
    _credits_afs_and_geoportal(plain_text.split("Schlüssel")[0])

    sheet = load_workbook(io.BytesIO(workbook))["Daten"]
    values = {row[0].value: row[1].value for row in sheet.iter_rows(max_row=5)}
    _credits_afs_and_geoportal(values["Quelle"] + values["Lizenz"])
    assert values["Stichtag"] == "31.12.2024"
    key_cells = [row[0] for row in sheet.iter_rows(min_row=8) if row[0].value]
    assert key_cells and all(
        c.data_type == "s" and c.number_format == "@" and c.value.startswith("02")
        for c in key_cells
    )


def test_map_files_of_an_indicator_credit_afs_and_geoportal(kreuzberg, tmp_path):
    pdf, _type, pdf_name = exports.export_map(result=kreuzberg, title="U18", fmt="pdf")
    png, _type, png_name = exports.export_map(result=kreuzberg, title="U18", fmt="png")
    svg, _type, _name = exports.export_map(result=kreuzberg, title="U18", fmt="svg")

    # The source line drawn on the map.
    drawn = _pdf_text(pdf, tmp_path)
    _credits_afs_and_geoportal(drawn)
    assert "Planungsräume in Friedrichshain-Kreuzberg" in drawn
    assert pdf_name != png_name
    # The files' own metadata.
    _credits_afs_and_geoportal(Image.open(io.BytesIO(png)).info["Description"])
    description = re.search(rb"<dc:description>(.*?)</dc:description>", svg, re.S)
    _credits_afs_and_geoportal(description.group(1).decode("utf-8"))


def test_map_values_api_sends_the_sources_for_the_legend(indicators, client_logged_in):
    response = client_logged_in.get(
        "/api/maps/values/", {"variable": INDICATOR, "level": "bezirksregion"}
    )
    assert response.status_code == 200, response.content[:300]
    _credits_afs_and_geoportal(response.json()["sources"])


def test_profile_pdf_credits_the_inputs_of_its_indicators(indicators, tmp_path):
    from profiles.rendering import profile_pdf_render
    from profiles.selectors import profile_document_for_region, profile_region_get

    document = profile_document_for_region(region=profile_region_get(code=REGION))
    assert f"{EWR_SOURCE} ({EWR_LICENSE})" in document["analysis"]["sources"]
    text = _pdf_text(profile_pdf_render(document=document), tmp_path)
    _credits_afs_and_geoportal(text)
    assert date(2024, 12, 31).strftime("%d.%m.%Y") in text
