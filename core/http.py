"""HTTP glue every app's views share."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404

T = TypeVar("T")


def selected_or_404(selector: Callable[..., T], /, **kwargs) -> T:
    """What ``selector(**kwargs)`` returns; 404 where it raises ``DoesNotExist``.

    Selectors that hide rows a user may not see raise ``DoesNotExist`` for them
    too, so a hidden object answers exactly like an unknown one.
    """
    try:
        return selector(**kwargs)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc
