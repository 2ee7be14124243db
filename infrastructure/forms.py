"""Forms of the facility register pages (German labels via the translations)."""

from __future__ import annotations

from django import forms
from django.contrib.gis.geos import Point
from django.utils.translation import gettext_lazy as _

from lor.models import LorUnit

from .models import Facility, FacilityType

# The browser's date picker; it sends and shows ISO dates.
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _bezirke():
    return LorUnit.objects.filter(
        scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRK
    ).order_by("code")


class FacilityFilterForm(forms.Form):
    facility_type = forms.ModelChoiceField(
        label=_("Type"),
        queryset=FacilityType.objects.order_by("name"),
        required=False,
        empty_label=_("all types"),
        to_field_name="key",
    )
    bezirk = forms.ModelChoiceField(
        label=_("District"),
        queryset=_bezirke(),
        required=False,
        empty_label=_("all districts"),
        to_field_name="code",
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("all"))] + list(Facility.Status.choices),
        required=False,
    )
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Name, operator, key or Planungsraum key"),
    )

    def clean_q(self) -> str:
        return self.cleaned_data["q"].replace("\x00", "").strip()


class FacilityForm(forms.Form):
    """Create or edit: location as a point on the map (lon/lat) or a Planungsraum."""

    facility_type = forms.ModelChoiceField(
        label=_("Type"), queryset=FacilityType.objects.none()
    )
    name = forms.CharField(label=_("Name"), max_length=300)
    capacity = forms.DecimalField(
        label=_("Capacity"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        help_text=_("In the type's unit (Kita: places, playground: m² net play area)."),
    )
    operator = forms.CharField(
        label=_("Operator (Träger)"), max_length=200, required=False
    )
    status = forms.ChoiceField(label=_("Status"), choices=Facility.Status.choices)
    valid_from = forms.DateField(
        label=_("Valid from"), required=False, widget=DATE_INPUT
    )
    valid_to = forms.DateField(
        label=_("Valid to"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("Closing date: from this day on the facility no longer counts."),
    )
    lat = forms.FloatField(
        label=_("Latitude (WGS 84)"),
        required=False,
        min_value=52.3,
        max_value=52.7,
        help_text=_("Click on the map or enter, e.g. 52.5163"),
    )
    lon = forms.FloatField(
        label=_("Longitude (WGS 84)"),
        required=False,
        min_value=13.0,
        max_value=13.8,
        help_text=_("e.g. 13.3777"),
    )
    planungsraum = forms.RegexField(
        label=_("or Planungsraum key"),
        regex=r"^\d{8}$",
        required=False,
        help_text=_("8 digits; only if the exact location is unknown"),
        error_messages={"invalid": _("Enter the 8-digit key of a Planungsraum.")},
    )

    def __init__(self, *args, types=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility_type"].queryset = (
            types if types is not None else FacilityType.objects.none()
        )
        if editing:
            # The type of a facility does not change; close it and add a new one.
            del self.fields["facility_type"]

    def clean(self):
        data = super().clean()
        lat, lon = data.get("lat"), data.get("lon")
        if (lat is None) != (lon is None):
            raise forms.ValidationError(_("Enter both latitude and longitude."))
        data["geom"] = None
        if lat is not None:
            point = Point(lon, lat, srid=4326)
            point.transform(25833)
            data["geom"] = point
        data["unit"] = None
        if data["geom"] is None and data.get("planungsraum"):
            data["unit"] = LorUnit.objects.filter(
                scheme=LorUnit.Scheme.LOR_2021,
                level=LorUnit.Level.PLANUNGSRAUM,
                code=data["planungsraum"],
            ).first()
            if data["unit"] is None:
                self.add_error(
                    "planungsraum", _("This Planungsraum does not exist in LOR 2021.")
                )
        if data["geom"] is None and not data.get("planungsraum"):
            raise forms.ValidationError(
                _("Place the facility on the map, enter coordinates or a Planungsraum.")
            )
        start, end = data.get("valid_from"), data.get("valid_to")
        if start and end and end <= start:
            self.add_error("valid_to", _("The closing date must follow the opening."))
        return data


class FacilityCloseForm(forms.Form):
    on = forms.DateField(
        label=_("Closed from"),
        widget=DATE_INPUT,
        help_text=_("From this day on the facility no longer counts."),
    )


class FacilityTypeForm(forms.Form):
    key = forms.SlugField(
        label=_("Key"),
        max_length=40,
        help_text=_("Short, lower case, e.g. familienzentrum"),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    capacity_unit = forms.CharField(
        label=_("Capacity unit"),
        max_length=60,
        help_text=_("For example places, m² net play area or m²."),
    )
    demand_group = forms.CharField(
        label=_("Demand group"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Who the supply is for, e.g. children under 6 or all residents."),
    )

    def clean_key(self) -> str:
        key = self.cleaned_data["key"].lower()
        if FacilityType.objects.filter(key=key).exists():
            raise forms.ValidationError(_("This key is taken."))
        return key


class FacilityUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "Table (CSV, XLSX) or GIS file (GeoJSON, GeoPackage, zipped Shapefile)"
        ),
    )
    facility_type = forms.ModelChoiceField(
        label=_("Type (for rows without a type column)"),
        queryset=FacilityType.objects.none(),
        required=False,
    )

    def __init__(self, *args, types=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility_type"].queryset = (
            types if types is not None else FacilityType.objects.none()
        )
