import json

from django import forms
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.utils.translation import gettext_lazy as _

from lor.models import CustomAreaSet
from lor.services import AreaSpec

MAX_GEOJSON_BYTES = 5 * 1024 * 1024


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
            areas.append(AreaSpec(name=name.strip(), keys=keys))
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
        except (ValueError, KeyError, AttributeError, UnicodeDecodeError) as exc:
            raise forms.ValidationError(_("The file is not readable GeoJSON.")) from exc
        crs = ((collection.get("crs") or {}).get("properties") or {}).get("name", "")
        srid = 25833 if "25833" in crs else 4326
        areas = []
        for n, feature in enumerate(features, start=1):
            try:
                geom = GEOSGeometry(json.dumps(feature["geometry"]), srid=srid)
            except (GEOSException, KeyError, TypeError, ValueError) as exc:
                raise forms.ValidationError(
                    _("Feature %(n)s has no usable geometry.") % {"n": n}
                ) from exc
            if geom.geom_type not in ("Polygon", "MultiPolygon"):
                raise forms.ValidationError(
                    _("Feature %(n)s is a %(type)s, not a polygon.")
                    % {"n": n, "type": geom.geom_type}
                )
            name = str((feature.get("properties") or {}).get("name") or f"Gebiet {n}")
            areas.append(AreaSpec(name=name, polygon=geom))
        return areas
