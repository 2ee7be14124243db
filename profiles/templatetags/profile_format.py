"""Formatting of the plain values in a profile's analysis dict."""

from __future__ import annotations

from datetime import date

from django import template

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
