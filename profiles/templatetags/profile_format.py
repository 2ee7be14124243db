"""Formatting of the plain values in a profile's analysis dict."""

from __future__ import annotations

from datetime import date

from django import template

from explorer.graphics import ESTIMATED_LABEL, REFORM_LABEL
from lor import hierarchy

register = template.Library()


@register.filter
def isodate(value: str | None) -> str:
    """'2024-12-31' → '31.12.2024'; anything else unchanged, None → '–'."""
    if not value:
        return "–"
    try:
        return date.fromisoformat(str(value)).strftime("%d.%m.%Y")
    except ValueError:
        return str(value)


@register.filter
def lookup(mapping: dict | None, key: str):
    """``mapping[key]``, or the key itself when the mapping lacks it."""
    return (mapping or {}).get(key, key)


@register.filter
def before_reform(value: str | None) -> bool:
    """True for an ISO date of the old LOR scheme (up to 31.12.2020)."""
    try:
        return hierarchy.before_reform(date.fromisoformat(str(value)))
    except ValueError:
        return False


@register.simple_tag
def reform_label() -> str:
    """The reform's label, as the charts print it."""
    return str(REFORM_LABEL)


@register.simple_tag
def estimated_label() -> str:
    """The legend text of estimated values, as the charts print it."""
    return str(ESTIMATED_LABEL)
