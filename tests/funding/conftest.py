"""Fixtures of the funding tests: the example programmes and areas, CSV files."""

from __future__ import annotations

import pytest

from tests.support.login import user_with_role

HEADER = (
    "Projektnummer;Maßnahme;Programm;Fördergebiet;Planungsraum;Rechtswert;Hochwert;"
    "Träger;Handlungsfeld;Beginn;Ende;Status;Jahr;Bewilligt (EUR);Ausgezahlt (EUR)"
)
# Three lines of Mitte (01): a project in a real Planungsraum over two years and
# one in the example QM area Soldiner Straße.
GOOD_LINES = [
    "T-001;Spielplatz Test;efre;;01100101;;;Bezirksamt;Öffentlicher Raum;"
    "01.01.2023;31.12.2024;laufend;2023;10.000,00;4.000,00",
    "T-001;Spielplatz Test;efre;;01100101;;;Bezirksamt;Öffentlicher Raum;"
    "01.01.2023;31.12.2024;laufend;2024;2.500,50;8.500,50",
    "T-002;Kiezfonds Test;sozialer-zusammenhalt;qm-soldiner-strasse;;;;QM-Team;"
    "Nachbarschaft;;;bewilligt;2024;1.200;",
]


def csv_bytes(lines: list[str]) -> bytes:
    return ("\ufeff" + "\r\n".join([HEADER, *lines]) + "\r\n").encode("utf-8")


@pytest.fixture
def funding_examples(db, lor_units):
    """Programmes, example areas and example projects (funding/data)."""
    from funding.services.examples import funding_examples_load

    return funding_examples_load()


@pytest.fixture
def coordinator01(lor_units):
    from core.access import Role

    return user_with_role("koordination01", Role.COORDINATOR, "01")


@pytest.fixture
def guest(lor_units):
    from core.access import Role

    return user_with_role("gast", Role.GUEST, None)
