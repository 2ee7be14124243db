"""Writes of saved queries; only the owner may change, pin or delete a query."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import Role, require_role
from core.audit import audit_record
from core.models import AuditEvent
from datapool.api_params import ParamError, json_check
from datapool.services.published_cells import published_cells_record
from explorer.selection import Selection, SelectionError, selection_evaluate
from infrastructure.scenarios import scenario_list
from lor.models import LorUnit
from queries.models import SavedQuery

from .selectors import saved_query_visible, selection_answer


def selection_clean(*, data: Any) -> Selection:
    """A valid, evaluable selection from its dict form; ``ValidationError`` if not."""
    try:
        selection = Selection.parse(data)
        selection_evaluate(selection=selection)
    except KeyError as exc:
        raise ValidationError(
            {"selection": _("The selection lacks %(key)s.") % {"key": exc}}
        ) from exc
    except (TypeError, ValueError) as exc:
        # SelectionError carries a message for the user; other errors are Python's.
        message = (
            str(exc)
            if isinstance(exc, SelectionError)
            else _("The selection is not valid.")
        )
        raise ValidationError({"selection": message}) from exc
    return selection


def presentation_clean(*, data: dict[str, Any] | None) -> dict[str, Any]:
    """How the explorer showed a selection, if storable; ``ValidationError`` if not."""
    try:
        json_check(data or {}, field="presentation")
    except ParamError as exc:
        raise ValidationError({"presentation": exc.message}) from exc
    return data or {}


def _check_may_save(user) -> None:
    # Guests review released data; saving and sharing queries is staff work.
    require_role(user, Role.ADMIN, Role.COORDINATOR, Role.PLANNER)


def _check_owner(*, query: SavedQuery, user) -> None:
    if query.owner_id != user.pk:
        raise PermissionDenied(_("Only the owner may change this query."))


def _check_district(district: LorUnit | None) -> None:
    if district is not None and district.level != LorUnit.Level.BEZIRK:
        raise ValidationError({"district": _("Please choose a Bezirk.")})


def _sharing_clean(*, sharing: str, district: LorUnit | None) -> None:
    _check_district(district)
    if sharing == SavedQuery.Sharing.DISTRICT and district is None:
        raise ValidationError(
            {"district": _("A query shared with a district needs the district.")}
        )


@transaction.atomic
def saved_query_create(
    *,
    owner,
    title: str,
    selection: dict[str, Any] | Selection,
    description: str = "",
    inquiry_reference: str = "",
    sharing: str = SavedQuery.Sharing.PRIVATE,
    district: LorUnit | None = None,
    presentation: dict[str, Any] | None = None,
) -> SavedQuery:
    """A new query of ``owner`` whose selection is valid and evaluable."""
    _check_may_save(owner)
    _sharing_clean(sharing=sharing, district=district)
    query = SavedQuery(
        owner=owner,
        title=title,
        description=description,
        inquiry_reference=inquiry_reference,
        sharing=sharing,
        district=district,
        selection=selection_clean(data=selection).as_dict(),
        presentation=presentation_clean(data=presentation),
    )
    query.full_clean()
    query.save()
    return query


@transaction.atomic
def saved_query_update(
    *,
    query: SavedQuery,
    user,
    title: str | None = None,
    description: str | None = None,
    inquiry_reference: str | None = None,
    sharing: str | None = None,
    district: LorUnit | None = None,
    selection: dict[str, Any] | Selection | None = None,
    presentation: dict[str, Any] | None = None,
) -> SavedQuery:
    """The owner's changes saved; a pinned query keeps its selection (unpin first).

    Arguments left ``None`` stay unchanged; ``district`` is set together with
    ``sharing``.
    """
    _check_owner(query=query, user=user)
    if title is not None:
        query.title = title
    if description is not None:
        query.description = description
    if inquiry_reference is not None:
        query.inquiry_reference = inquiry_reference
    if sharing is not None:
        _sharing_clean(sharing=sharing, district=district)
        query.sharing = sharing
        query.district = district
    if selection is not None:
        cleaned = selection_clean(data=selection).as_dict()
        if query.pinned and cleaned != query.selection:
            raise ValidationError(
                {
                    "selection": _(
                        "The query is pinned; unpin it before changing its selection."
                    )
                }
            )
        query.selection = cleaned
    if presentation is not None:
        query.presentation = presentation_clean(data=presentation)
    query.full_clean()
    query.save()
    return query


@transaction.atomic
def saved_query_duplicate(*, query: SavedQuery, user) -> SavedQuery:
    """A private, unpinned copy of a query the user may see, owned by the user."""
    if not saved_query_visible(user=user, query=query):
        raise PermissionDenied(_("You may not see this query."))
    _check_may_save(user)
    copy = SavedQuery(
        owner=user,
        title=(_("Copy of %(title)s") % {"title": query.title})[:200],
        description=query.description,
        inquiry_reference=query.inquiry_reference,
        sharing=SavedQuery.Sharing.PRIVATE,
        district=query.district,
        selection=query.selection,
        presentation=query.presentation,
    )
    copy.full_clean()
    copy.save()
    return copy


@transaction.atomic
def saved_query_delete(*, query: SavedQuery, user) -> None:
    """The owner's query removed."""
    _check_owner(query=query, user=user)
    audit_record(
        user=user,
        action=AuditEvent.Action.DELETE,
        obj=query,
        details={"selection": query.selection, "sharing": query.sharing},
    )
    query.delete()


@transaction.atomic
def saved_query_pin(*, query: SavedQuery, user) -> SavedQuery:
    """The query's current answer frozen as its snapshot (pinning again refreshes)."""
    _check_owner(query=query, user=user)
    try:
        snapshot = selection_answer(selection=Selection.from_dict(query.selection))
    except SelectionError as exc:
        raise ValidationError({"selection": str(exc)}) from exc
    query.pinned = True
    query.pinned_at = timezone.now()
    query.snapshot = snapshot
    query.full_clean()
    query.save()
    # A pinned answer is published for good: later corrections must not choose
    # complements that difference against it.
    published_cells_record(
        level=query.selection["level"],
        columns=snapshot["columns"],
        rows=snapshot["rows"],
    )
    return query


def saved_query_pins_publish() -> tuple[int, int]:
    """Every pinned answer's published cells are recorded (idempotent).

    Pins made before the record existed are published all the same; returns the
    number of pinned queries and of values offered.
    """
    queries = offered = 0
    for query in SavedQuery.objects.filter(pinned=True).only("selection", "snapshot"):
        queries += 1
        offered += published_cells_record(
            level=query.selection["level"],
            columns=query.snapshot["columns"],
            rows=query.snapshot["rows"],
        )
    return queries, offered


@transaction.atomic
def saved_query_unpin(*, query: SavedQuery, user) -> SavedQuery:
    """The query answers from current data again; its snapshot is dropped."""
    _check_owner(query=query, user=user)
    query.pinned = False
    query.pinned_at = None
    query.snapshot = None
    query.full_clean()
    query.save()
    return query


@transaction.atomic
def saved_query_scenarios_set(*, query: SavedQuery, user, scenario_ids: list[int]):
    """The owner attaches the chosen planning scenarios (those they may open);
    attached scenarios they may not open stay attached."""
    _check_owner(query=query, user=user)
    visible = scenario_list(user=user)
    chosen = list(visible.filter(pk__in=scenario_ids))
    kept = list(query.scenarios.exclude(pk__in=visible.values("pk")))
    query.scenarios.set([*chosen, *kept])
    return chosen
