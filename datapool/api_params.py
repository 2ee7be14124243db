"""Request parameters of value queries, parsed in one place.

Everything that takes a level, a reference date, a number or free text from a
request — ``/api/values/``, ``/api/maps/values/``, the explorer's selection
(table, exports, charts) and saved queries — parses it here, so the rules and
the German messages are the same everywhere. Bad input is a ``ParamError``
(a 400), never a server error:

* a level is a LOR level or ``custom:<id>``; where values are read, the custom
  area set must exist;
* a date is ``YYYY-MM-DD``;
* a number is finite: NaN, ±Infinity and literals beyond the range of a float
  (``1e999``, 400 digits) are refused — they have no place in the data and
  would be invalid JSON in every answer;
* text never contains NUL characters, which PostgreSQL cannot store.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from django.utils.translation import gettext
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError

from lor.hierarchy import LEVELS
from lor.models import CustomAreaSet

from .models import Variable
from .selectors import ValuesQueryError, level_parse, values_answer

LEVEL_HELP = (
    "bezirk, prognoseraum, bezirksregion, planungsraum, berlin, or a custom area "
    "set as custom:<id> (see /api/areas/)"
)
# A LOR level or a custom area set ("custom:<id>", see selectors.level_parse).
LEVEL_RE = re.compile(rf"(?:{'|'.join(LEVELS)}|custom:\d{{1,9}})")
DATE_FORMAT = "%Y-%m-%d"
# Longer number texts are no data anyone means; float() of them is slow.
MAX_NUMBER_CHARS = 40


class ParamError(ValueError):
    """A request parameter that cannot be used; the message says why, in German."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field
        self.message = message


def _shown(value: Any, limit: int = 40) -> str:
    text = str(value).replace("\x00", "")
    return text if len(text) <= limit else f"{text[:limit]}…"


def text_check(value: str, *, field: str = "") -> str:
    """The text unchanged; ``ParamError`` if it contains a NUL character."""
    if "\x00" in value:
        raise ParamError(gettext("Null characters are not allowed."), field)
    return value


def texts_check(params: Mapping[str, Any]) -> None:
    """``ParamError`` naming the first parameter whose text contains NUL."""
    for name, value in _walk(params):
        if "\x00" in name or (isinstance(value, str) and "\x00" in value):
            raise ParamError(
                gettext("„%(name)s“: null characters are not allowed.")
                % {"name": _shown(name)},
                _shown(name),
            )


def json_check(data: Any, *, field: str = "") -> None:
    """``ParamError`` unless ``data`` can be stored as JSON: no NUL in its texts
    (keys included), no NaN or ±Infinity among its numbers."""
    texts_check({field: data} if field else data)
    for name, value in _walk(data, field):
        if isinstance(value, float) and not math.isfinite(value):
            raise ParamError(
                gettext("„%(name)s“: „%(value)s“ is not a finite number.")
                % {"name": _shown(name), "value": value},
                field,
            )


def _walk(data: Any, name: str = "") -> Iterable[tuple[str, Any]]:
    """(name, value) of every leaf of nested dicts, lists and query dicts."""
    if hasattr(data, "lists"):  # a QueryDict: every value of a repeated key
        for key, values in data.lists():
            for value in values:
                yield from _walk(value, key)
    elif isinstance(data, Mapping):
        for key, value in data.items():
            yield from _walk(value, str(key))
            yield str(key), None
    elif isinstance(data, list | tuple):
        for value in data:
            yield from _walk(value, name)
    else:
        yield name, data


def number_parse(value: Any, *, field: str = "") -> float:
    """A finite float from a JSON number or a number text ("1.5", "-3", "1e5")."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ParamError(gettext("A number is required."), field)
    if isinstance(value, str) and len(value.strip()) > MAX_NUMBER_CHARS:
        raise ParamError(
            gettext("„%(value)s“ is too long for a number.")
            % {"value": _shown(value, 20)},
            field,
        )
    try:
        number = float(value)
    except OverflowError:  # an int beyond the float range
        number = math.inf
    except ValueError as exc:
        raise ParamError(
            gettext("„%(value)s“ is not a number.") % {"value": _shown(value)}, field
        ) from exc
    if not math.isfinite(number):
        raise ParamError(
            gettext("„%(value)s“ is not a finite number.")
            % {"value": _shown(value, 20)},
            field,
        )
    return number


def date_parse(value: Any, *, field: str = "date") -> date:
    """A date from ``YYYY-MM-DD``; ``ParamError`` for anything else."""
    text = text_check(str(value), field=field)
    try:
        return datetime.strptime(text, DATE_FORMAT).date()
    except ValueError as exc:
        raise ParamError(
            gettext("„%(value)s“ is no date; please use YYYY-MM-DD.")
            % {"value": _shown(value)},
            field,
        ) from exc


def level_check(value: Any, *, field: str = "level") -> str:
    """The level if it is a LOR level or ``custom:<id>``; format only, no database."""
    level = text_check(str(value), field=field)
    if not LEVEL_RE.fullmatch(level):
        raise ParamError(
            gettext("Unknown level „%(level)s“.") % {"level": _shown(level)}, field
        )
    return level


def level_clean(value: Any, *, field: str = "level") -> str:
    """A level whose units exist: a LOR level, or ``custom:<id>`` of a known set."""
    level = level_check(value, field=field)
    _base, area_set = level_parse(level)
    if area_set is not None and not CustomAreaSet.objects.filter(pk=area_set).exists():
        raise ParamError(
            gettext("There is no set of custom areas „%(level)s“.") % {"level": level},
            field,
        )
    return level


def _drf(parse, value: Any) -> Any:
    try:
        return parse(value)
    except ParamError as exc:
        raise serializers.ValidationError(exc.message) from exc


class LevelField(serializers.CharField):
    """A level as ``level_clean`` accepts it."""

    def to_internal_value(self, data: Any) -> str:
        return _drf(level_clean, super().to_internal_value(data))


class DateParamField(serializers.CharField):
    """A date as ``date_parse`` accepts it."""

    def to_internal_value(self, data: Any) -> date:  # type: ignore[override]
        return _drf(date_parse, super().to_internal_value(data))


class ValuesQuery(serializers.Serializer):
    """The parameters of ``/api/values/``, shared by ``/api/maps/values/``."""

    variable = serializers.CharField(max_length=64)
    level = LevelField(max_length=20)
    date = DateParamField(required=False)
    compare = DateParamField(required=False)


def values_query_answer(
    *, user: Any, params: Mapping[str, Any], unknown_variable_status: int = 404
) -> dict[str, Any]:
    """``values_answer`` for validated request parameters.

    Raises DRF's ``ValidationError`` (400) for bad parameters; an unknown or
    hidden variable is a 404 (``NotFound``), or a 400 on the ``variable``
    parameter where the caller asks for it (the map, where it is one option).
    """
    query = ValuesQuery(data=params)
    query.is_valid(raise_exception=True)
    data = query.validated_data
    try:
        return values_answer(
            user=user,
            variable_key=data["variable"],
            level=data["level"],
            ref_date=data.get("date"),
            compare=data.get("compare"),
        )
    except Variable.DoesNotExist as exc:
        message = f"Variable „{data['variable']}“ ist unbekannt."
        if unknown_variable_status == 404:
            raise NotFound(message) from exc
        raise ValidationError({"variable": message}) from exc
    except ValuesQueryError as exc:
        raise ValidationError({exc.field: exc.message}) from exc
