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
once. Within the same time a cold request of that credential takes a copy of the
user the full path verified instead of authenticating again.

Rendered answers are also shared between processes through Redis (cache alias
``answers``): one gunicorn worker renders, the others serve the same bytes. The
shared key holds everything the per-process key holds (viewer class, path,
language, parameters, data version, gzip) plus the database's name, hashed. A
shared answer is only looked up for a viewer this process verified (from the
credential memo, or after DRF authentication on the full path), so sharing adds
no trust. Redis is optional: when it does not answer, the processes answer on
their own and try Redis again after ``SharedAnswers.RETRY_AFTER`` seconds.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.core.cache import caches
from django.http import HttpResponse
from django.utils.translation import get_language

from core.access import user_bezirk_code, user_role
from datapool.confidentiality import viewer_access_class
from datapool.memo import version_in_effect
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
    """Credentials the full path verified recently: (viewer key, user)."""

    TTL = 10.0

    def __init__(self, size: int = 4096):
        super().__init__(size, ttl=self.TTL)


logger = logging.getLogger(__name__)


class SharedAnswers:
    """Rendered answers in Redis for every process; silent when Redis is away."""

    ALIAS = "answers"
    RETRY_AFTER = 30.0

    def __init__(self) -> None:
        self.down_until = 0.0

    def _key(self, key: tuple) -> str:
        text = repr((settings.DATABASES["default"]["NAME"], key))
        return hashlib.sha256(text.encode()).hexdigest()

    def _usable(self) -> bool:
        return self.ALIAS in settings.CACHES and time.monotonic() >= self.down_until

    def _failed(self, exc: Exception) -> None:
        # One warning per outage, then no attempt for a while: a dead Redis must
        # not cost every request a connection timeout.
        if self.down_until == 0.0 or time.monotonic() >= self.down_until:
            logger.warning(
                "shared answer cache unavailable (%s); answering per process", exc
            )
        self.down_until = time.monotonic() + self.RETRY_AFTER

    def get(self, key: tuple):
        if not self._usable():
            return None
        try:
            value = caches[self.ALIAS].get(self._key(key))
        except Exception as exc:  # noqa: BLE001 - any Redis failure means "not shared"
            self._failed(exc)
            return None
        self.down_until = 0.0
        return value

    def put(self, key: tuple, value) -> None:
        if not self._usable():
            return
        try:
            caches[self.ALIAS].set(self._key(key), value)
        except Exception as exc:  # noqa: BLE001
            self._failed(exc)

    def reset(self) -> None:
        """Try Redis again at once (tests, after a settings change)."""
        self.down_until = 0.0


_RENDERED = _Lru(size=512)
_SHARED = SharedAnswers()
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


def _rendered(cached) -> HttpResponse:
    content, headers = cached
    response = HttpResponse(content)
    for header, value in headers:
        response[header] = value
    return response


def _recall(key: tuple):
    """The rendered answer from this process's memory, else from Redis."""
    cached = _RENDERED.get(key)
    if cached is None:
        cached = _SHARED.get(key)
        if cached is not None:
            _RENDERED.put(key, cached)
    return cached


class _SharedHit(Exception):  # noqa: N818 - control flow, not an error
    """Raised after authentication when another process already rendered it."""

    def __init__(self, cached):
        self.cached = cached


class CachedReadMixin:
    """For DRF API views whose GET answer depends only on parameters and viewer.

    Conditional requests (If-None-Match) always take the full path.
    """

    _answer_base: tuple | None = None
    _viewer: tuple | None = None
    _asked: tuple | None = None  # the key already looked up before the full path
    _known_user = None  # the user the full path verified for this credential

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
        conditional = bool(request.headers.get("If-None-Match"))
        known = _CREDENTIALS.get(credential)
        viewer, self._known_user = known if known is not None else (None, None)
        if viewer is not None and not conditional:
            self._asked = (viewer, *base)
            cached = _recall(self._asked)
            if cached is not None:
                return _rendered(cached)
        self._answer_base = None if conditional else base
        # The full path may keep catalogue answers for this version (memo.py).
        with version_in_effect(version):
            response = super().dispatch(request, *args, **kwargs)
        user = getattr(self.request, "user", None)
        if response.status_code == 200 and user is not None and user.is_authenticated:
            viewer = self._viewer or viewer_key(user)
            if self._known_user is None:  # a memo's user is not trusted longer
                _CREDENTIALS.put(credential, (viewer, user))
            shared = getattr(response, "shared_entry", None)
            if shared is not None:
                _RENDERED.put((viewer, *base), shared)
                return response
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            headers = [(h, response[h]) for h in _KEPT_HEADERS if h in response]
            entry = (response.content, headers)
            _RENDERED.put((viewer, *base), entry)
            _SHARED.put((viewer, *base), entry)
        return response

    def initial(self, request, *args, **kwargs):
        """After DRF's checks: another process may have rendered this already.

        A credential verified within ``CredentialMemo.TTL`` seconds skips DRF's
        authentication (session or token, user, groups, district: up to four
        queries of a cold request) and takes a copy of the user verified then;
        the trust is the same as for an answer from memory.
        """
        if self._known_user is not None:
            request.user = copy.copy(self._known_user)
            request.auth = None
        super().initial(request, *args, **kwargs)
        user = request.user
        if self._answer_base is not None and user.is_authenticated:
            self._viewer = viewer_key(user)
            key = (self._viewer, *self._answer_base)
            cached = _SHARED.get(key) if key != self._asked else None
            if cached is not None:
                raise _SharedHit(cached)

    def handle_exception(self, exc):
        if isinstance(exc, _SharedHit):
            response = _rendered(exc.cached)
            response.shared_entry = exc.cached
            return response
        return super().handle_exception(exc)
