"""Waiting in a Playwright page for what the page's scripts report as done."""

from __future__ import annotations

# The pages' scripts write what they show into data-ready once it is drawn.
_READY = """([id, parts, separator]) => {
    const ready = document.getElementById(id).dataset.ready || '';
    const shown = separator ? ready.split(separator) : ready;
    return parts.every(p => shown.includes(p));
}"""


def wait_until_ready(
    page, element_id: str, parts, *, separator: str | None = None
) -> None:
    """Wait until the element's data-ready names all parts: as substrings, or as
    items when the value is a list joined by separator."""
    page.wait_for_function(_READY, arg=[element_id, list(parts), separator])
