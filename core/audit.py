"""The audit log: one call records who did what to which object, and how."""

from __future__ import annotations

from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import QuerySet

from core.models import AuditEvent

Action = AuditEvent.Action


def _json_safe(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, default=str))


@transaction.atomic
def audit_record(
    *,
    user,
    action: str,
    obj: Any = None,
    details: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
    object_label: str = "",
) -> AuditEvent:
    """Store one audit event; it commits or rolls back with the change it records.

    ``obj`` is any model instance (its type, pk and ``str`` are kept); without
    one, ``object_type``/``object_id``/``object_label`` describe the object (e.g.
    an export, which has no row).
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk or "")
        object_label = object_label or str(obj)
    signed_in = user is not None and getattr(user, "is_authenticated", False)
    event = AuditEvent(
        user=user if signed_in else None,
        username=user.get_username() if signed_in else "",
        action=Action(action),
        object_type=object_type[:100],
        object_id=str(object_id)[:64],
        object_label=str(object_label)[:300],
        details=_json_safe(details or {}),
    )
    event.full_clean()
    event.save()
    return event


def audit_event_list(
    *, action: str = "", object_type: str = "", username: str = ""
) -> QuerySet[AuditEvent]:
    """Events newest first, filterable by action, object type and user name."""
    qs = AuditEvent.objects.select_related("user")
    if action:
        qs = qs.filter(action=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if username:
        qs = qs.filter(username__icontains=username)
    return qs.order_by("-at", "-pk")
