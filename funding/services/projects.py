"""Browser edits of projects and their amounts by district coordinators (audited)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from core.access import require_funding_edit
from core.audit import Action, audit_record

from ..models import Project, ProjectAmount

EDITABLE = (
    "title",
    "programme",
    "area",
    "unit",
    "sponsor",
    "field_of_action",
    "start",
    "end",
    "status",
)


@transaction.atomic
def project_update(*, user: Any, project: Project, **fields: Any) -> Project:
    """Change the editable fields of a project; the audit log keeps old and new."""
    require_funding_edit(user=user, bezirk_code=project.district.code)
    changes = {}
    for name, value in fields.items():
        if name not in EDITABLE:
            raise ValueError(f"not editable: {name}")
        old = getattr(project, name)
        if old != value:
            changes[name] = {"old": str(old or ""), "new": str(value or "")}
            setattr(project, name, value)
    if project.area_id and project.area.district_id != project.district_id:
        from django.core.exceptions import ValidationError

        raise ValidationError(
            {"area": "Das Fördergebiet liegt in einem anderen Bezirk."}
        )
    project.full_clean()
    project.save()
    if changes:
        audit_record(user=user, action=Action.CHANGE, obj=project, details=changes)
    return project


@transaction.atomic
def project_amount_set(
    *,
    user: Any,
    project: Project,
    year: int,
    approved: Decimal,
    paid: Decimal,
) -> ProjectAmount | None:
    """Set (or with both zero: remove) a project's amounts of one year, audited."""
    require_funding_edit(user=user, bezirk_code=project.district.code)
    current = ProjectAmount.objects.filter(project=project, year=year).first()
    before = (
        {"approved": str(current.approved), "paid": str(current.paid)}
        if current
        else None
    )
    if approved == 0 and paid == 0:
        if current is not None:
            current.delete()
            audit_record(
                user=user,
                action=Action.DELETE,
                obj=project,
                details={"year": year, "old": before},
            )
        return None
    amount = current or ProjectAmount(project=project, year=year)
    amount.approved, amount.paid = approved, paid
    amount.full_clean()
    amount.save()
    audit_record(
        user=user,
        action=Action.CHANGE,
        obj=project,
        details={
            "year": year,
            "old": before,
            "new": {"approved": str(approved), "paid": str(paid)},
        },
    )
    return amount
