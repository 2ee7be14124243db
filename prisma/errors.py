"""Error pages that explain: what happened, why, and where to go from here.

Pages render in the site layout (navigation, language switch) so nobody is left
on a dead end. The API answers in JSON instead: DRF turns its own refusals into
JSON before these handlers are reached; these cover the rest of ``/api/``
(unknown addresses, crashes). The 500 page renders without context processors
and without touching the database, which may be the very thing that failed.
"""

from __future__ import annotations

import logging

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseServerError,
    JsonResponse,
)
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template import loader
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

logger = logging.getLogger(__name__)

# Everything below this prefix is the JSON API (the schema docs page included,
# which has no error states of its own).
API_PREFIX = "/api/"

# Used only if even the 500 template cannot be rendered.
FALLBACK_500 = (
    '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8">'
    "<title>PRISMA – Fehler</title></head><body>"
    "<h1>Ein interner Fehler ist aufgetreten</h1>"
    "<p>Die Anfrage konnte nicht bearbeitet werden. Bitte versuchen Sie es "
    'erneut; <a href="/">zur Startseite</a>.</p></body></html>'
)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _back_url(request: HttpRequest) -> str | None:
    """The page the user came from, if it is one of ours (never a foreign site)."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer,
        allowed_hosts={request.get_host()},
        require_https=request.is_secure(),
    ):
        return referer
    return None


def _message(exception: BaseException | None) -> str:
    if exception is None or not exception.args:
        return ""
    message = exception.args[0]
    # Only messages we wrote are shown: strings (lazy ones included), not the
    # dicts the URL resolver attaches.
    return str(message) if isinstance(message, str | Promise) else ""


@requires_csrf_token
def permission_denied(
    request: HttpRequest, exception: BaseException | None = None
) -> HttpResponse:
    """403: the reason the rule gave, and where the user can go instead."""
    reason = _message(exception) or _("Your role does not allow this.")
    if _is_api(request):
        return JsonResponse({"detail": reason}, status=403)
    return render(
        request,
        "403.html",
        {"reason": reason, "back_url": _back_url(request)},
        status=403,
    )


@requires_csrf_token
def page_not_found(
    request: HttpRequest, exception: BaseException | None = None
) -> HttpResponse:
    """404: no technical detail (no URL patterns), a way back and the start page."""
    if _is_api(request):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return render(
        request,
        "404.html",
        {"request_path": request.path, "back_url": _back_url(request)},
        status=404,
    )


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """500: from the template alone, without the database or context processors."""
    if _is_api(request):
        return JsonResponse(
            {"detail": _("An internal error occurred. Please try again.")}, status=500
        )
    try:
        # No request passed: context processors (which read the database) stay out.
        html = loader.get_template("500.html").render(
            {"request": request, "csrf_token": get_token(request)}
        )
    except Exception:  # the error page must never fail itself
        logger.exception("The 500 page could not be rendered")
        html = FALLBACK_500
    return HttpResponseServerError(html)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form (expired or missing security token), explained in German."""
    if _is_api(request):
        return JsonResponse(
            {"detail": _("The form's security check failed. Please reload the page.")},
            status=403,
        )
    return render(
        request,
        "403_csrf.html",
        {"back_url": _back_url(request)},
        status=403,
    )
