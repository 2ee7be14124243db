"""Login throttling with django-axes: PRISMA's lockout page and its audit record.

Axes counts wrong passwords per user name and address and refuses that pair
for a while once ``AXES_FAILURE_LIMIT`` is reached (settings explain the
numbers). This module only adds what is PRISMA's: the lockout page in the site
layout, and one audit event when a lockout begins (not one per refused attempt,
so a script hammering the login cannot flood the audit log).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .audit import Action, audit_record

LOCKOUT_TEMPLATE = "registration/lockout.html"


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    """The lockout page (HTTP 429) for ``AXES_LOCKOUT_CALLABLE``."""
    return render(
        request,
        LOCKOUT_TEMPLATE,
        {
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "cooloff_minutes": lockout_minutes(),
        },
        status=429,
    )


def login_lockout_audit(
    sender, request: HttpRequest, username: str | None, ip_address: str | None, **kw
) -> None:
    """Receiver of axes' ``user_locked_out``: audit the attempt that locked the pair.

    Axes signals again for every refused attempt during a lockout; only the one
    that reached the limit is recorded.
    """
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is not None and failures != settings.AXES_FAILURE_LIMIT:
        return
    user = (
        get_user_model().objects.filter(username=username).first() if username else None
    )
    audit_record(
        user=None,  # nobody is signed in; the account concerned is the object
        action=Action.LOGIN_LOCKOUT,
        object_type="auth.user",
        object_id=str(user.pk) if user else "",
        object_label=(username or "")[:150],
        details={
            "ip_address": ip_address,
            "failures": failures,
            "cooloff_minutes": lockout_minutes(),
            "known_user": user is not None,
        },
    )


def lockout_minutes() -> int | None:
    """The configured cool-off in whole minutes (``None``: until reset)."""
    cooloff = settings.AXES_COOLOFF_TIME
    return round(cooloff / timedelta(minutes=1)) if cooloff else None
