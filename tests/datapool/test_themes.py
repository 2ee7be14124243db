import pytest

from datapool.models import Indicator
from datapool.services.indicators import indicator_definitions_load
from datapool.themes import ProfileTheme, Theme, catalogue_theme


def test_every_profile_theme_is_filed_under_a_catalogue_theme():
    assert {catalogue_theme(t) for t in ProfileTheme} <= set(Theme)
    assert catalogue_theme("stabilitaet") == Theme.BEVOELKERUNG
    assert catalogue_theme("bildung_jugend") == Theme.JUGEND


def test_catalogue_theme_refuses_an_unknown_profile_theme():
    with pytest.raises(ValueError):
        catalogue_theme("schule")


def test_profile_themes_keep_the_handbuch_order():
    assert ProfileTheme.values[:6] == [
        "bevoelkerung",
        "stabilitaet",
        "arbeit_soziales",
        "gesundheit",
        "bildung_jugend",
        "wohnen_gruen",
    ]


@pytest.mark.django_db
def test_loaded_indicators_are_filed_under_their_catalogue_theme():
    indicator_definitions_load()
    indicators = list(Indicator.objects.select_related("variable"))
    assert indicators
    for indicator in indicators:
        assert indicator.variable.theme == catalogue_theme(indicator.theme), indicator
