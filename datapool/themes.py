"""Themes: how the catalogue and the Bezirksregionenprofile group their contents.

PRISMA groups by theme in two ways, and both are owned here:

* ``Theme``: the Datenpool catalogue's themes. Every variable and facility layer
  has one; the catalogue filters by it and table uploads name it.
* ``ProfileTheme``: the themes of a Bezirksregionenprofil as the Handbuch orders
  them. Kernindikatoren are grouped and ordered by them in a profile, and each
  goal of a profile's conceptual part belongs to one (goals may also concern
  social infrastructure or something else).

An indicator's values are stored as a catalogue variable, filed under the
catalogue theme its profile theme corresponds to (``catalogue_theme``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Theme(models.TextChoices):
    BEVOELKERUNG = "bevoelkerung", _("Bevölkerung")
    SOZIALES = "soziales", _("Soziales")
    ARBEIT = "arbeit", _("Arbeit")
    SCHULE = "schule", _("Schule")
    JUGEND = "jugend", _("Jugend")
    GESUNDHEIT = "gesundheit", _("Gesundheit")
    WOHNEN = "wohnen", _("Wohnen")
    GRUEN = "gruen", _("Grün")
    INFRASTRUKTUR = "infrastruktur", _("Infrastruktur")
    SONSTIGES = "sonstiges", _("Sonstiges")


class ProfileTheme(models.TextChoices):
    """In the order a profile shows them; the last two only for goals."""

    BEVOELKERUNG = "bevoelkerung", _("Population structure")
    STABILITAET = "stabilitaet", _("Stability of the population")
    ARBEIT_SOZIALES = "arbeit_soziales", _("Work and social situation")
    GESUNDHEIT = "gesundheit", _("Health")
    BILDUNG_JUGEND = "bildung_jugend", _("School and youth")
    WOHNEN_GRUEN = "wohnen_gruen", _("Housing and green space")
    INFRASTRUKTUR = "infrastruktur", _("Social infrastructure")
    SONSTIGES = "sonstiges", _("Other")


_CATALOGUE_THEME: dict[str, Theme] = {
    ProfileTheme.BEVOELKERUNG: Theme.BEVOELKERUNG,
    ProfileTheme.STABILITAET: Theme.BEVOELKERUNG,
    ProfileTheme.ARBEIT_SOZIALES: Theme.SOZIALES,
    ProfileTheme.GESUNDHEIT: Theme.GESUNDHEIT,
    ProfileTheme.BILDUNG_JUGEND: Theme.JUGEND,
    ProfileTheme.WOHNEN_GRUEN: Theme.WOHNEN,
    ProfileTheme.INFRASTRUKTUR: Theme.INFRASTRUKTUR,
    ProfileTheme.SONSTIGES: Theme.SONSTIGES,
}


def catalogue_theme(profile_theme: str) -> Theme:
    """The catalogue theme an indicator of this profile theme is filed under."""
    return _CATALOGUE_THEME[ProfileTheme(profile_theme)]
