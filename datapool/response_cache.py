"""Rendered answers of the read-only value APIs, kept per process.

The map and the values API answer the same few questions again and again (back
on the time slider, another planner on the same view). An answer depends only on
the request's parameters, the language, the data version and what its viewer may
see; so a warm request is answered from rendered bytes, without loading the
session, the user, their groups and district, or the values.

Two guards keep this safe. An answer is only stored after the full path (DRF
authentication, role, visibility and confidentiality checks) produced it for a
viewer of that class. And a credential (session cookie or API token) is only
trusted from memory for ``CredentialMemo.TTL`` seconds after the full path last
verified it, so a logout in another process, a deleted token or a changed role
takes effect within that time; a logout in this process forgets the session at
once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import get_language

from core.access import user_bezirk_code, user_role
from datapool.confidentiality import viewer_access_class
from datapool.selectors import datapool_version


class _Lru:
    """A small thread-safe LRU mapping with an optional lifetime per entry."""

    def __init__(self, size: int, ttl: float | None = None):
        self.size = size
        self.ttl = ttl
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            entry = self.items.get(key)
            if entry is None:
                return None
            value, expires = entry
            if expires is not None and expires < time.monotonic():
                del self.items[key]
                return None
            self.items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        expires = time.monotonic() + self.ttl if self.ttl else None
        with self.lock:
            self.items[key] = (value, expires)
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def forget(self, key) -> None:
        with self.lock:
            self.items.pop(key, None)


class CredentialMemo(_Lru):
    """Credentials the full path verified recently, with their viewer key."""

    TTL = 10.0

    def __init__(self, size: int = 4096):
        super().__init__(size, ttl=self.TTL)


_RENDERED = _Lru(size=512)
# What an answer needs besides its bytes (gzip geometry, ETag and caching rules).
_KEPT_HEADERS = ("Content-Type", "Content-Encoding", "ETag", "Cache-Control", "Vary")
_CREDENTIALS = CredentialMemo()


def _credential(request) -> tuple | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.startswith("Token "):
        return ("token", header[6:].strip())
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    return ("session", session_key) if session_key else None


def viewer_key(user) -> tuple:
    """Equal for viewers who see the same variables (role, district) and values."""
    return (viewer_access_class(user=user), user_role(user), user_bezirk_code(user))


def session_forget(session_key: str | None) -> None:
    """Stop answering this session's requests from memory (at logout)."""
    if session_key:
        _CREDENTIALS.forget(("session", session_key))


class CachedReadMixin:
    """For DRF API views whose GET answer depends only on parameters and viewer.

    Conditional requests (If-None-Match) always take the full path.
    """

    def dispatch(self, request, *args, **kwargs):
        credential = _credential(request) if request.method == "GET" else None
        if credential is None:
            return super().dispatch(request, *args, **kwargs)
        # Read before the answer is made: an answer is never filed under a
        # version newer than the data it was made from.
        version = datapool_version()
        params = tuple(sorted((k, tuple(v)) for k, v in request.GET.lists()))
        gzip = "gzip" in request.headers.get("Accept-Encoding", "")
        base = (request.path, get_language(), params, version, gzip)
        viewer = _CREDENTIALS.get(credential)
        if viewer is not None and not request.headers.get("If-None-Match"):
            cached = _RENDERED.get((viewer, *base))
            if cached is not None:
                content, headers = cached
                response = HttpResponse(content)
                for header, value in headers:
                    response[header] = value
                return response
        response = super().dispatch(request, *args, **kwargs)
        user = getattr(self.request, "user", None)
        if response.status_code == 200 and user is not None and user.is_authenticated:
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            viewer = viewer_key(user)
            headers = [(h, response[h]) for h in _KEPT_HEADERS if h in response]
            _RENDERED.put((viewer, *base), (response.content, headers))
            _CREDENTIALS.put(credential, viewer)
        return response
