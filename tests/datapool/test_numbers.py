import pytest

from datapool.numbers import german, german_label, german_short, german_tick


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [
        (1234.5, 1, "1.234,5"),
        (-1234567.25, 2, "-1.234.567,25"),
        (0.04, 1, "0,0"),
        (None, 1, "–"),
    ],
)
def test_german_groups_thousands_with_dots_and_decimals_with_a_comma(
    value, decimals, text
):
    assert german(value, decimals) == text


def test_labels_ticks_and_short_values_choose_their_decimals():
    assert german_label(12345.67) == "12.345,7"
    assert german_label(2_500_000.4) == "2.500.000"
    assert german_tick(3000.0) == "3.000"
    assert german_tick(2.5) == "2,50"
    assert german_short(3725.4) == "3.725"
    assert german_short(-150) == "-150"
    assert german_short(12.34) == "12,3"
