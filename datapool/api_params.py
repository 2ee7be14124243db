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
* text never contains NUL characters, which PostgreSQL cannot store;
* a LOR scheme is ``lor2021`` (the default) or ``lor2006`` (the units until
  2020; the same key names another area there).
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

from lor import hierarchy
from lor.hierarchy import LEVELS
from lor.models import CustomAreaSet

from .lineage import attribution
from .models import Variable
from .selectors import (
    ValuesQueryError,
    level_parse,
    observation_series,
    scheme_param,
    values_answer,
    variable_get,
)
from .timeline import reform_answer

LEVEL_HELP = (
    "bezirk, prognoseraum, bezirksregion, planungsraum, berlin, or a custom area "
    "set as custom:<id> (see /api/areas/)"
)
# A LOR level or a custom area set ("custom:<id>", see selectors.level_parse).
LEVEL_RE = re.compile(rf"(?:{'|'.join(LEVELS)}|custom:\d{{1,9}})")
DATE_FORMAT = "%Y-%m-%d"
# Longer number texts are no data anyone means; float() of them is slow.
MAX_NUMBER_CHARS = 40
SCHEME_HELP = (
    "LOR scheme: lor2021 (default) or lor2006 (the units until 2020; the same "
    "key names another area there)"
)
# Units of one time series request: a chart has at most five lines.
MAX_SERIES_UNITS = 5
UNIT_KEY_RE = re.compile(r"[0-9A-Za-z]{1,8}")  # LOR keys; custom areas: K0007001


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


def scheme_parse(value: Any, *, field: str = "scheme") -> str:
    """The scheme (``LorUnit.scheme``) of ``lor2021`` or ``lor2006``; empty: 2021."""
    text = text_check(str(value), field=field).strip()
    if not text:
        return hierarchy.SCHEME_PARAMS[hierarchy.DEFAULT_SCHEME_PARAM]
    try:
        return hierarchy.scheme_of_param(text)
    except KeyError as exc:
        raise ParamError(
            gettext("Unknown LOR scheme „%(value)s“. Allowed: %(allowed)s.")
            % {"value": _shown(text), "allowed": ", ".join(hierarchy.SCHEME_PARAMS)},
            field,
        ) from exc


def unit_keys_parse(value: Any, *, field: str = "units") -> list[str]:
    """One to five unit keys, separated by commas, each a plain key."""
    text = text_check(str(value), field=field)
    keys = list(dict.fromkeys(k.strip() for k in text.split(",") if k.strip()))
    if not keys:
        raise ParamError(gettext("Please give at least one unit (key)."), field)
    if len(keys) > MAX_SERIES_UNITS:
        raise ParamError(
            gettext("At most %(n)d units are possible.") % {"n": MAX_SERIES_UNITS},
            field,
        )
    for key in keys:
        if not UNIT_KEY_RE.fullmatch(key):
            raise ParamError(
                gettext("Unknown unit “%(code)s” on this level.")
                % {"code": _shown(key, 20)},
                field,
            )
    return keys


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


class SchemeField(serializers.CharField):
    """A LOR scheme as ``scheme_parse`` accepts it (the stored scheme name)."""

    def to_internal_value(self, data: Any) -> str:
        return _drf(scheme_parse, super().to_internal_value(data))


class ValuesQuery(serializers.Serializer):
    """The parameters of ``/api/values/``, shared by ``/api/maps/values/``."""

    variable = serializers.CharField(max_length=64)
    level = LevelField(max_length=20)
    date = DateParamField(required=False)
    compare = DateParamField(required=False)
    scheme = SchemeField(required=False, allow_blank=True, max_length=20)


def query_scheme(data: Mapping[str, Any]) -> str:
    """The validated scheme of a query, LOR 2021 when none was given."""
    return data.get("scheme") or scheme_parse("")


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
            scheme=query_scheme(data),
        )
    except Variable.DoesNotExist as exc:
        message = f"Variable „{data['variable']}“ ist unbekannt."
        if unknown_variable_status == 404:
            raise NotFound(message) from exc
        raise ValidationError({"variable": message}) from exc
    except ValuesQueryError as exc:
        raise ValidationError({exc.field: exc.message}) from exc


class UnitKeysField(serializers.CharField):
    """Unit keys as ``unit_keys_parse`` accepts them."""

    def to_internal_value(self, data: Any) -> list[str]:  # type: ignore[override]
        return _drf(unit_keys_parse, super().to_internal_value(data))


class SeriesQuery(serializers.Serializer):
    """The parameters of ``/api/values/series/``."""

    variable = serializers.CharField(max_length=64)
    level = LevelField(max_length=20)
    units = UnitKeysField(max_length=200)
    scheme = SchemeField(required=False, allow_blank=True, max_length=20)


def series_query_answer(*, user: Any, params: Mapping[str, Any]) -> dict[str, Any]:
    """The time series of up to five units of one variable, every point flagged.

    400 for bad parameters or a key that is no unit of the level; 404 for an
    unknown or hidden variable.
    """
    query = SeriesQuery(data=params)
    query.is_valid(raise_exception=True)
    data = query.validated_data
    try:
        variable = variable_get(key=data["variable"], user=user)
    except Variable.DoesNotExist as exc:
        raise NotFound(f"Variable „{data['variable']}“ ist unbekannt.") from exc
    scheme = query_scheme(data)
    if scheme != scheme_parse("") and level_parse(data["level"])[1] is not None:
        raise ValidationError(
            {"scheme": ["Eigene Gebiete gibt es nur im LOR-Schema 2021 (lor2021)."]}
        )
    try:
        series = observation_series(
            variable=variable,
            level=data["level"],
            codes=data["units"],
            viewer=user,
            scheme=scheme,
        )
    except LookupError as exc:
        raise ValidationError(
            {
                "units": [
                    gettext("Unknown unit “%(code)s” on this level.")
                    % {"code": _shown(exc.args[0], 20)}
                ]
            }
        ) from exc
    dates = [p.ref_date for p in series[0].points] if series else []
    return {
        "variable": variable.key,
        "name": variable.name,
        "unit": variable.unit,
        "level": data["level"],
        "scheme": scheme_param(scheme),
        "dates": dates,
        # Sources and licences of the values, for the chart's source line.
        "sources": attribution(variables=[variable], geometry=False).line(),
        # Where the charts draw the LOR reform (between these two days), and
        # how the reform and estimated values are labelled.
        "reform": reform_answer(),
        "series": [
            {
                "code": s.code,
                "name": s.name,
                "points": [
                    {
                        "date": p.ref_date,
                        "value": p.value,
                        "status": p.status,
                        "estimated": p.estimated,
                    }
                    for p in s.points
                ],
            }
            for s in series
        ],
    }
