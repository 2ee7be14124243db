"""Files of a saved query's pinned answer, written by the explorer's exporters.

The table is the snapshot (``saved_query_snapshot_result``), not current data;
the metadata rows name the inquiry, the pinning date and the import runs, and
the title says it is the pinned answer of that date.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from explorer.exports import Export, export_csv, export_xlsx
from queries.models import SavedQuery

from .selectors import saved_query_snapshot_result

PINNED_FORMATS = ("csv", "xlsx")


def _pinned_notes(query: SavedQuery) -> tuple[tuple[str, str], ...]:
    when = timezone.localtime(query.pinned_at).strftime("%d.%m.%Y %H:%M")
    notes = [(_("Answer"), _("Pinned answer of %(when)s") % {"when": when})]
    if query.inquiry_reference:
        notes.append((_("Inquiry reference"), query.inquiry_reference))
    runs = query.snapshot.get("import_runs") or []
    if runs:
        notes.append(
            (
                _("Import runs"),
                ", ".join(
                    f"#{run['id']} {run.get('file') or ''}".strip() for run in runs
                ),
            )
        )
    return tuple(notes)


def saved_query_pinned_export(*, query: SavedQuery, fmt: str) -> Export:
    """The pinned answer as German-Excel CSV or XLSX.

    Raises ``SavedQuery.DoesNotExist`` for an unpinned query and ``ValueError``
    for another format.
    """
    if fmt not in PINNED_FORMATS:
        raise ValueError(fmt)
    result = saved_query_snapshot_result(query=query)
    when = timezone.localtime(query.pinned_at).strftime("%d.%m.%Y")
    title = _("%(title)s (pinned answer of %(when)s)") % {
        "title": query.title,
        "when": when,
    }
    notes = _pinned_notes(query)
    if fmt == "csv":
        return export_csv(result=result, title=title, notes=notes)
    return export_xlsx(result=result, title=title, notes=notes)
