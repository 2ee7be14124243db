"""Forms of the explorer: custom areas (Gebietskulissen) from keys or GeoJSON.

A GeoJSON file is read as RFC 7946 says, in WGS84 longitude/latitude, unless its
``crs`` names ETRS89 / UTM 33N (EPSG:25833, the LOR geometries' system). Other
systems are refused by name, and coordinates that cannot be longitudes and
latitudes (a UTM file without ``crs``) are refused instead of being read as
degrees, which would either fail or silently match nothing.
"""

import json
import math
import re

from django import forms
from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.utils.translation import gettext_lazy as _

from lor.models import CustomAreaSet, LorUnit
from lor.services import AreaSpec

MAX_GEOJSON_BYTES = 5 * 1024 * 1024
AREA_NAME_MAX = LorUnit._meta.get_field("name").max_length or 120
WGS84, UTM33 = 4326, 25833
# How a GeoJSON crs names the systems read here ("EPSG:25833",
# "urn:ogc:def:crs:EPSG::25833", "urn:ogc:def:crs:OGC:1.3:CRS84").
CRS_NAMES = {
    WGS84: re.compile(r"(?:EPSG:+4326|CRS:?84)$", re.IGNORECASE),
    UTM33: re.compile(r"EPSG:+25833$", re.IGNORECASE),
}


class CustomAreaSetForm(forms.Form):
    name = forms.CharField(label=_("Name of the set"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=CustomAreaSet.Kind.choices)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    keys = forms.CharField(
        label=_("Areas as key lists"),
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 6,
                "placeholder": "Gebiet A: 01100101, 01100102\nGebiet B: 081003",
            }
        ),
        help_text=_(
            "One area per line: a name, a colon, then LOR keys separated by commas "
            "or spaces. Keys of Bezirksregionen, Prognoseräume or Bezirke stand for "
            "all their Planungsräume."
        ),
    )
    polygons = forms.FileField(
        label=_("or areas as polygons (GeoJSON)"),
        required=False,
        help_text=_(
            "Each feature becomes an area (name from its property 'name'); it "
            "contains the Planungsräume of which at least half lies inside."
        ),
    )

    def clean(self):
        data = super().clean()
        areas: list[AreaSpec] = []
        for line_no, line in enumerate((data.get("keys") or "").splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, rest = line.partition(":")
            if not sep:
                name, rest = f"Gebiet {line_no}", line
            keys = rest.replace(",", " ").replace(";", " ").split()
            areas.append(AreaSpec(name=_area_name(name.strip()), keys=keys))
        upload = data.get("polygons")
        if upload:
            areas += self._polygons(upload)
        if not areas:
            raise forms.ValidationError(
                _("Please give at least one area as a key list or as polygons.")
            )
        data["areas"] = areas
        return data

    def _polygons(self, upload) -> list[AreaSpec]:
        if upload.size > MAX_GEOJSON_BYTES:
            raise forms.ValidationError(_("The GeoJSON file is larger than 5 MB."))
        try:
            collection = json.loads(upload.read().decode("utf-8-sig"))
            features = (
                collection["features"]
                if collection.get("type") == "FeatureCollection"
                else [collection]
            )
            if not isinstance(features, list):
                raise ValueError("features is no list")
        except (
            ValueError,
            KeyError,
            AttributeError,
            UnicodeDecodeError,
            RecursionError,
        ) as exc:
            raise forms.ValidationError(_("The file is not readable GeoJSON.")) from exc
        srid = _srid(collection)
        areas = []
        for n, feature in enumerate(features, start=1):
            try:
                geom = GEOSGeometry(json.dumps(feature["geometry"]))
                # GDAL reads any GeoJSON as WGS84; the crs of the file decides.
                geom.srid = srid
                extent = geom.extent
            except (
                GDALException,
                GEOSException,
                KeyError,
                TypeError,
                ValueError,
            ) as exc:
                raise forms.ValidationError(
                    _("Feature %(n)s has no usable geometry.") % {"n": n}
                ) from exc
            if geom.geom_type not in ("Polygon", "MultiPolygon"):
                raise forms.ValidationError(
                    _("Feature %(n)s is a %(type)s, not a polygon.")
                    % {"n": n, "type": geom.geom_type}
                )
            _coordinates_check(n, srid, extent)
            properties = feature.get("properties")
            if not isinstance(properties, dict):
                properties = {}
            name = str(properties.get("name") or f"Gebiet {n}")
            areas.append(AreaSpec(name=_area_name(name), polygon=geom))
        return areas


def _area_name(name: str) -> str:
    if "\x00" in name:
        raise forms.ValidationError(_("Null characters are not allowed."))
    if len(name) > AREA_NAME_MAX:
        raise forms.ValidationError(
            _("The name „%(name)s…“ is longer than %(max)s characters.")
            % {"name": name[:40], "max": AREA_NAME_MAX}
        )
    return name


def _srid(collection: dict) -> int:
    """The file's coordinate system: its crs if named, else WGS84 (RFC 7946)."""
    crs = collection.get("crs")
    if crs is None:
        return WGS84
    name = (crs.get("properties") or {}).get("name") if isinstance(crs, dict) else None
    for srid, pattern in CRS_NAMES.items():
        if isinstance(name, str) and pattern.search(name.strip()):
            return srid
    raise forms.ValidationError(
        _(
            "The coordinate system „%(crs)s“ is not supported; please use WGS84 "
            "(EPSG:4326) or ETRS89 / UTM 33N (EPSG:25833)."
        )
        % {"crs": str(name if name is not None else crs)[:60].replace("\x00", "")}
    )


def _coordinates_check(n: int, srid: int, extent: tuple) -> None:
    """Coordinates that fit the file's coordinate system; a German error if not."""
    if not extent or not all(math.isfinite(v) for v in extent):
        raise forms.ValidationError(
            _("Feature %(n)s has no usable geometry.") % {"n": n}
        )
    xmin, ymin, xmax, ymax = extent
    degrees = -180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90
    if srid == WGS84 and not degrees:
        raise forms.ValidationError(
            _(
                "The coordinates of feature %(n)s are no longitudes and latitudes "
                "(WGS84). A GeoJSON file without „crs“ must use WGS84; for "
                "ETRS89 / UTM 33N coordinates please name EPSG:25833 as its crs."
            )
            % {"n": n}
        )
    if srid == UTM33 and degrees:
        raise forms.ValidationError(
            _(
                "The coordinates of feature %(n)s look like longitudes and "
                "latitudes, but the file's crs is EPSG:25833."
            )
            % {"n": n}
        )
