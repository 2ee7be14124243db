"""German number formatting, the one home of how PRISMA writes a number.

``1.234,5``: a dot groups thousands, a comma separates decimals. It lives in the
lowest layer that writes numbers (the Datenpool's variable chart); the figures of
``explorer.graphics`` and the profiles use it from here.
"""

from __future__ import annotations


def german(value: float | None, decimals: int = 1) -> str:
    """1234.5 → '1.234,5'; None → '–'."""
    if value is None:
        return "–"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def german_label(value: float) -> str:
    """A value in a legend or title: one decimal, none from a million on."""
    return german(value, 1 if abs(value) < 1e6 else 0)


def german_tick(value: float) -> str:
    """An axis tick: whole numbers without decimals, others with two."""
    return german(value, 0 if float(value).is_integer() else 2)


def german_short(value: float) -> str:
    """A small chart's value: no decimals from 100 on, one below."""
    return german(value, 0 if abs(value) >= 100 else 1)
