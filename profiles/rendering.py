"""PDF of a Bezirksregion profile document, rendered by WeasyPrint from a template.

``profile_pdf_render`` takes the plain document of ``profiles.selectors``
(``profile_document`` or ``profile_document_for_region``) and returns PDF bytes,
either the full profile or the two-page Kurzprofil. Charts and maps are PNG data
URIs; the URL fetcher refuses everything else, so rendering never touches the
network. Numbers are formatted here, in German, and suppressed values are shown
by their status, never as a number.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import logging
import threading
import time
from datetime import date
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from datapool.numbers import german
from lor.attribution import LOR_LICENSE, LOR_SOURCE, LOR_SOURCE_SHORT

from . import charts
from .analysis_types import IndicatorMap, IndicatorRow, ProfileAnalysis, ProfileDocument

logger = logging.getLogger(__name__)

VARIANTS = ("full", "short")
# Full profile: at most this many maps; the Kurzprofil shows one.
MAX_MAPS = 4
MAX_SERIES = 3
# Kurzprofil: the first indicators of each theme, up to this many rows.
SHORT_PER_THEME = 2
SHORT_MAX_ROWS = 14
GEODATA_LINE = f"{LOR_SOURCE}, {LOR_LICENSE}"


_local = threading.local()


class RenderError(ValueError):
    """The document cannot be rendered; the message says why."""


def _font_config():
    # One FontConfiguration per thread: building it scans the system fonts.
    config = getattr(_local, "fonts", None)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration

        config = _local.fonts = FontConfiguration()
    return config


def _url_fetcher():
    # Images are data: URIs; any other scheme (http, file) is refused.
    fetcher = getattr(_local, "fetcher", None)
    if fetcher is None:
        from weasyprint.urls import URLFetcher

        fetcher = _local.fetcher = URLFetcher(
            allowed_protocols={"data"}, fail_on_errors=True
        )
    return fetcher


def data_uri(png: bytes | None) -> str | None:
    if png is None:
        return None
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _date(value: str | None) -> str:
    if not value:
        return "–"
    try:
        return date.fromisoformat(str(value)[:10]).strftime("%d.%m.%Y")
    except ValueError:
        return str(value)


def status_label(status: str | None) -> str:
    return {
        "suppressed": _("suppressed"),
        "below_min": _("below minimum count"),
        "missing": _("no data"),
        "incomplete": _("incomplete"),
    }.get(status or "missing", _("no data"))


def _decimals(unit: str | None, value: float) -> int:
    if unit == "%" or not float(value).is_integer():
        return 1
    return 0


def _number(value: float | None, unit: str | None) -> str:
    if value is None:
        return "–"
    return german(float(value), _decimals(unit, value))


def _change(value: float | None, unit: str | None) -> str:
    if value is None:
        return "–"
    shown = round(float(value), 1)
    sign = "+" if shown > 0 else ("±" if shown == 0 else "−")
    return sign + german(abs(shown), 1)


def _arrow(change: float | None) -> str:
    # By the change as printed: +0,0 gets a level arrow, not an up arrow.
    if change is None:
        return ""
    shown = round(float(change), 1)
    return "↑" if shown > 0 else ("↓" if shown < 0 else "→")


def _indicator_row(
    indicator: IndicatorRow, *, ref_date: str | None = None, mapped: bool = False
) -> dict:
    """A table row; ``mapped``: the indicator's map shows Planungsraum values."""
    unit = indicator.get("unit") or ""
    status = indicator.get("status") or "missing"
    shown = status == "ok" and indicator.get("value") is not None
    rank = indicator.get("rank")
    label = None if shown else status_label(status)
    if status == "missing" and mapped:
        # Delivered for Planungsräume only (the MSS): the map has the values.
        label = _("Planungsräume only, see map")
    value_date = indicator.get("date")
    return {
        "key": indicator.get("key", ""),
        "name": indicator.get("name", ""),
        "unit": unit,
        "value": _number(indicator["value"], unit) if shown else None,
        "status": status,
        "status_label": label,
        "date": _date(value_date) if value_date else None,
        # Named next to the value when it is not the profile's reference date.
        "other_date": bool(value_date) and value_date != ref_date,
        "district": _number(indicator.get("district"), unit),
        "berlin": _number(indicator.get("berlin"), unit),
        "rank": f"{rank} / {indicator.get('rank_of')}" if shown and rank else "–",
        # A change is only shown next to a value that is shown.
        "change": _change(indicator.get("change"), unit) if shown else "–",
        "arrow": _arrow(indicator.get("change")) if shown else "",
        # Across the LOR reform a value or the change's earlier end is converted.
        "estimated": shown and bool(indicator.get("estimated")),
        "change_estimated": shown and bool(indicator.get("change_estimated")),
        "trend": (indicator.get("trend") or "none") if shown else "none",
    }


def _unprefixed(source: str) -> str:
    # The line says "Quelle:" once; a source stored with its own prefix (an
    # import's free text, a frozen edition) would print it twice.
    for prefix in ("Quelle:", "Quellen:", "Source:", "Sources:", _("Source") + ":"):
        if source.startswith(prefix):
            return source[len(prefix) :].strip()
    return source


def _source_line(analysis: ProfileAnalysis) -> str:
    sources = (
        "; ".join(_unprefixed(s) for s in analysis.get("sources") or [])
        or "PRISMA Berlin"
    )
    licenses = "; ".join(analysis.get("licenses") or [])
    line = f"{_('Source')}: {sources}; {GEODATA_LINE}"
    return f"{line} · {_('License')}: {licenses}" if licenses else line


def _facts(analysis: ProfileAnalysis) -> dict:
    facts = analysis.get("facts") or {}
    residents = facts.get("residents")
    residents_ok = residents is not None and facts.get("residents_status", "ok") == "ok"
    return {
        "residents": german(residents, 0) if residents_ok else None,
        "residents_label": None
        if residents_ok
        else status_label(facts.get("residents_status")),
        "area_km2": german(facts.get("area_km2"), 2)
        if facts.get("area_km2") is not None
        else "–",
        "density": german(facts.get("density"), 0)
        if residents_ok and facts.get("density") is not None
        else "–",
        "planungsraeume": facts.get("planungsraeume") or [],
    }


def _maps(analysis: ProfileAnalysis, limit: int, source: str, size) -> list[dict]:
    region = analysis["region"]
    labels = {
        p["code"]: p["code"][-2:]
        for p in (analysis.get("facts") or {}).get("planungsraeume") or []
    }
    out = []
    for map_data in _maps_with_data(analysis)[:limit]:
        png = charts.choropleth_png(
            map_data=map_data,
            region_code=region["code"],
            # Short, on the image itself; the caption under it names every source.
            source_line=f"{_('Geodata')}: {LOR_SOURCE_SHORT} ({LOR_LICENSE})"
            " · PRISMA Berlin",
            labels=labels,
            size=size,
        )
        out.append(
            {
                "key": map_data.get("key"),
                "name": map_data.get("name", ""),
                # The date of the values drawn, which may be older than the
                # profile's (the MSS); stored editions keep theirs.
                "date": _date(map_data.get("date") or analysis.get("ref_date")),
                "src": data_uri(png),
            }
        )
    return out


def _maps_with_data(analysis: ProfileAnalysis) -> list[IndicatorMap]:
    """Maps with a value or a suppressed cell: an all-empty map says nothing."""
    return [
        m
        for m in analysis.get("maps") or []
        if any(
            c.get("value") is not None or c.get("status") in ("suppressed", "below_min")
            for c in (m.get("values") or {}).values()
        )
    ]


def profile_pdf_context(
    *, document: ProfileDocument, variant: str = "full"
) -> dict[str, Any]:
    """The template context of a document: formatted text and chart data URIs."""
    if variant not in VARIANTS:
        raise RenderError(f"Unknown variant {variant[:20]!r}.")
    analysis = document.get("analysis") or {}
    region = analysis.get("region") or {}
    if not region.get("code"):
        raise RenderError("The document has no region.")
    source = _source_line(analysis)
    mapped = {m.get("key") for m in _maps_with_data(analysis)}
    themes = []
    for theme in analysis.get("themes") or []:
        rows = [
            _indicator_row(
                i, ref_date=analysis.get("ref_date"), mapped=i.get("key") in mapped
            )
            for i in theme.get("indicators") or []
        ]
        if variant == "short":
            # The most important: the first of the theme that have a value (or
            # are suppressed); rows without data would only fill the two pages.
            rows = [r for r in rows if r["status"] != "missing"][:SHORT_PER_THEME]
        if rows:
            themes.append({"theme": theme.get("theme", ""), "rows": rows})
    if variant == "short":
        budget, trimmed = SHORT_MAX_ROWS, []
        for section in themes:
            if budget <= 0:
                break
            trimmed.append({**section, "rows": section["rows"][:budget]})
            budget -= len(trimmed[-1]["rows"])
        themes = trimmed
    context: dict[str, Any] = {
        "variant": variant,
        "document": document,
        "edition": document.get("edition"),
        "region": region,
        "ref_date": _date(analysis.get("ref_date")),
        "previous_date": _date(analysis.get("previous_date"))
        if analysis.get("previous_date")
        else None,
        "facts": _facts(analysis),
        "themes": themes,
        "source_line": source,
        "sources": analysis.get("sources") or [],
        "licenses": analysis.get("licenses") or [],
        "geodata_line": GEODATA_LINE,
        "created": date.today().strftime("%d.%m.%Y"),
    }
    if variant == "short":
        context["maps"] = _maps(analysis, 1, source, (6.7, 3.9))
        context["mss"] = analysis.get("mss") or []
        context["mss_date"] = (
            _date(analysis.get("mss_date")) if analysis.get("mss_date") else None
        )
        return context
    context["maps"] = _maps(analysis, MAX_MAPS, source, (6.7, 3.9))
    with_data = {m.get("key") for m in _maps_with_data(analysis)}
    context["maps_without_data"] = [
        m.get("name", "")
        for m in analysis.get("maps") or []
        if m.get("key") not in with_data
    ]
    context["age_chart"] = data_uri(
        charts.age_structure_png(bands=analysis.get("age_structure") or [])
    )
    series = analysis.get("series") or []
    context["single_date"] = bool(series) and all(
        len(s.get("points") or []) < 2 for s in series
    )
    context["series_charts"] = [
        uri
        for uri in (
            data_uri(charts.series_png(series=s))
            for s in (analysis.get("series") or [])[:MAX_SERIES]
        )
        if uri
    ]
    context["mss"] = analysis.get("mss") or []
    context["facilities"] = analysis.get("facilities") or []
    context["goals"] = [
        {
            **goal,
            "measures": [
                {**m, "due": _date(m.get("due")) if m.get("due") else ""}
                for m in goal.get("measures") or []
            ],
        }
        for goal in document.get("goals") or []
    ]
    context["assessments"] = document.get("assessments") or []
    context["chapters"] = profile_chapters_context(
        analysis=analysis, goals=document.get("goals") or []
    )
    return context


# A PDF allocates a few hundred thousand objects (boxes, styles, glyph runs) that
# live until it is written; with the default threshold (700) the collector ran
# hundreds of times per PDF over that growing heap: 15–20 % of the CPU time.
RENDER_GC_THRESHOLD = 50_000


@contextlib.contextmanager
def _fewer_collections():
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], RENDER_GC_THRESHOLD), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def profile_pdf_render(
    *, document: ProfileDocument, variant: str = "full", language: str = "de"
) -> bytes:
    """The document as PDF bytes (full profile or two-page Kurzprofil)."""
    from weasyprint import HTML

    started = time.perf_counter()
    with _fewer_collections():
        with translation.override(language):
            context = profile_pdf_context(document=document, variant=variant)
            charted = time.perf_counter()
            html = render_to_string(f"profiles/pdf/{variant}.html", context)
        pdf = HTML(string=html, url_fetcher=_url_fetcher(), base_url=".").write_pdf(
            font_config=_font_config()
        )
    logger.debug(
        "profile pdf %s %s: charts %.2f s, layout %.2f s",
        context["region"].get("code"),
        variant,
        charted - started,
        time.perf_counter() - charted,
    )
    return pdf


def profile_pdf_filename(*, document: ProfileDocument, variant: str = "full") -> str:
    """'bezirksregionenprofil-011001.pdf' or 'kurzprofil-011001.pdf'."""
    region = (document.get("analysis") or {}).get("region") or {}
    prefix = "kurzprofil" if variant == "short" else "bezirksregionenprofil"
    edition = document.get("edition") or {}
    suffix = f"-{edition['number']}" if edition.get("number") else ""
    return f"{prefix}-{region.get('code', 'region')}{suffix}.pdf"


# --- chapters "Soziale Infrastruktur" and "Fördermittel" ------------------------------

LEVEL_LABELS = {"bezirksregion": "Bezirksregion", "bezirk": "Bezirk", "berlin": ""}


def _amount(value: float | None) -> str:
    # Capacities in places or m²: whole numbers unless the source has decimals.
    if value is None:
        return "–"
    value = float(value)
    return german(value, 0 if abs(value) >= 100 or value.is_integer() else 1)


def _supply_row(row: dict, methods: list[dict]) -> dict:
    shown = row.get("status", "ok") == "ok"
    return {
        "code": row.get("code", ""),
        "name": row.get("name", ""),
        "level": row.get("level", ""),
        "status_label": None if shown else status_label(row.get("status")),
        "need": _amount(row.get("need")) if shown else "–",
        "methods": [
            {
                "key": m["key"],
                "supply": _amount(f.get("supply")),
                "grade": german(f["grade"], 1) if f.get("grade") is not None else "–",
                "deficit": _amount(f.get("deficit")),
            }
            for m in methods
            for f in [(row.get("methods") or {}).get(m["key"]) or {}]
        ],
    }


def _euro(value: float | None, decimals: int = 0) -> str:
    return "–" if value is None else german(float(value), decimals)


def _measure_links(goals: list) -> dict[int, list[str]]:
    """Per funding project id the measures of this document linked to it."""
    links: dict[int, list[str]] = {}
    for goal in goals or []:
        for measure in goal.get("measures") or []:
            for project in measure.get("funding_projects") or []:
                links.setdefault(project["id"], []).append(measure.get("text", ""))
    return links


def profile_chapters_context(
    *, analysis: ProfileAnalysis, goals: list | None = None, with_map: bool = True
) -> dict[str, Any]:
    """Formatted data of the two chapters (HTML page and PDF), with the map as PNG.

    Older frozen editions have no chapters: both are then ``None``.
    """
    region = analysis.get("region") or {}
    infra = analysis.get("infrastructure")
    funding = analysis.get("funding")
    out: dict[str, Any] = {"infrastructure": None, "funding": None}
    if infra:
        methods = infra.get("methods") or []
        types = infra.get("facility_types") or []
        symbols = {t["key"]: charts.facility_symbol(i)[1] for i, t in enumerate(types)}
        map_src = None
        if with_map and region.get("code"):
            map_src = data_uri(
                charts.facility_map_png(
                    chapter=infra,
                    region_code=region["code"],
                    source_line=f"{_('Geodata')}: {LOR_SOURCE_SHORT} ({LOR_LICENSE})"
                    " · " + _("Facility register") + " · PRISMA Berlin",
                )
            )
        rules = infra.get("rules") or []
        out["infrastructure"] = {
            "date": _date(infra.get("date")),
            "methods": methods,
            # Rules whose variables are not in the Datenpool (yet) are named only.
            "unpublished": [r.get("name", "") for r in rules if not r.get("date")],
            "rules": [
                {
                    **{k: v for k, v in rule.items() if k not in ("comparison",)},
                    "richtwert_text": german(rule.get("richtwert"), 3)
                    .rstrip("0")
                    .rstrip(","),
                    "min_capacity_text": _amount(rule.get("min_capacity"))
                    if rule.get("min_capacity") is not None
                    else None,
                    "date_text": _date(rule.get("date")),
                    "comparison": [
                        _supply_row(r, methods) for r in rule.get("comparison") or []
                    ],
                    "plr_rows": [
                        _supply_row(r, methods)
                        for r in rule.get("planungsraeume") or []
                    ],
                }
                for rule in rules
                if rule.get("date")
            ],
            "facility_types": [
                {**t, "color": symbols.get(t["key"], "#000")} for t in types
            ],
            "facilities": [
                {**f, "capacity_text": _amount(f.get("capacity"))}
                for f in infra.get("facilities") or []
            ],
            "sources": infra.get("sources") or [],
            "map": map_src,
        }
    if funding:
        visible = bool(funding.get("amounts_visible"))
        links = _measure_links(goals or [])
        out["funding"] = {
            "amounts_visible": visible,
            "has_examples": funding.get("has_examples"),
            "example_note": funding.get("example_note"),
            "distribution_note": funding.get("distribution_note"),
            "residents_date": _date(funding.get("residents_date")),
            "years": funding.get("years") or [],
            "comparison": [
                {
                    "name": r.get("name"),
                    "level": LEVEL_LABELS.get(r.get("level", ""), ""),
                    "residents": _euro(r.get("residents")),
                    "approved": _euro(r.get("approved")),
                    "paid": _euro(r.get("paid")),
                    "approved_per_resident": _euro(r.get("approved_per_resident"), 2),
                    "paid_per_resident": _euro(r.get("paid_per_resident"), 2),
                }
                for r in (funding.get("comparison") or [] if visible else [])
            ],
            "programmes": [
                {
                    **p,
                    "approved_text": _euro(p.get("approved")) if visible else None,
                    "paid_text": _euro(p.get("paid")) if visible else None,
                }
                for p in funding.get("programmes") or []
            ],
            "areas": funding.get("areas") or [],
            "projects": [
                {
                    **p,
                    "approved_text": _euro(p.get("approved")) if visible else None,
                    "paid_text": _euro(p.get("paid")) if visible else None,
                    "period": " – ".join(
                        _date(d) for d in (p.get("start"), p.get("end")) if d
                    ),
                    "measures": links.get(p.get("id"), []),
                    "share_text": german(100 * (p.get("region_share") or 0.0), 0)
                    + " %",
                }
                for p in funding.get("projects") or []
            ],
            "sources": funding.get("sources") or [],
        }
    return out
