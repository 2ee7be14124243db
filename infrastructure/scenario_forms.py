"""Forms of the planning scenarios: the scenario itself and one change."""

from __future__ import annotations

from django import forms
from django.contrib.gis.geos import Point
from django.utils.translation import gettext_lazy as _

from lor.models import LorUnit

from .models import Facility, Scenario, ScenarioChange, SupplyRule
from .supply import SRID


class ScenarioForm(forms.ModelForm):
    class Meta:
        model = Scenario
        fields = ["title", "description", "rule", "ref_date", "shared"]
        widgets = {
            "description": forms.Textarea({"rows": 3}),
            "ref_date": forms.DateInput({"type": "date"}, format="%Y-%m-%d"),
        }
        labels = {"rule": _("Facility type and supply rule")}

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].queryset = SupplyRule.objects.select_related(
            "facility_type"
        ).order_by("name")
        if editing:
            # The rule decides which facilities the changes name: it stays.
            del self.fields["rule"]


class FacilityChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Facility) -> str:
        place = obj.unit.code if obj.unit_id else ""
        capacity = f"{obj.capacity:.0f}" if obj.capacity is not None else "–"
        return f"{obj.name or obj.source_key or obj.pk} ({place}, {capacity})"


class ScenarioChangeForm(forms.Form):
    """One change. A location is given as a click on the map (longitude and
    latitude), as coordinates in EPSG:25833, or as a Planungsraum whose
    population point (ST_PointOnSurface) it takes."""

    kind = forms.ChoiceField(
        label=_("Kind of change"), choices=ScenarioChange.Kind.choices
    )
    facility = FacilityChoiceField(
        label=_("Facility of the register"),
        queryset=Facility.objects.none(),
        required=False,
        help_text=_("For moving, changing the capacity or closing."),
    )
    name = forms.CharField(
        label=_("Name of the new facility"), max_length=300, required=False
    )
    capacity = forms.DecimalField(
        label=_("Capacity"),
        min_value=0,
        max_digits=14,
        decimal_places=2,
        required=False,
    )
    closing_date = forms.DateField(
        label=_("Closing date"),
        required=False,
        widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d"),
        help_text=_("From this day on the facility no longer counts."),
    )
    planungsraum = forms.ChoiceField(
        label=_("Planungsraum"),
        required=False,
        help_text=_(
            "Without coordinates the facility is placed at the Planungsraum's "
            "population point."
        ),
    )
    lat = forms.FloatField(
        label=_("Latitude"), required=False, min_value=52.3, max_value=52.7
    )
    lon = forms.FloatField(
        label=_("Longitude"), required=False, min_value=13.0, max_value=13.8
    )
    x = forms.FloatField(label=_("Easting (EPSG:25833)"), required=False)
    y = forms.FloatField(label=_("Northing (EPSG:25833)"), required=False)

    def __init__(self, *args, scenario: Scenario, facilities=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.scenario = scenario
        self.fields["facility"].queryset = (
            facilities
            if facilities is not None
            else Facility.objects.filter(facility_type=scenario.rule.facility_type)
        )
        self.fields["planungsraum"].choices = [("", "–")] + [
            (code, f"{code} {name}")
            for code, name in LorUnit.objects.filter(
                scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.PLANUNGSRAUM
            )
            .order_by("code")
            .values_list("code", "name")
        ]

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        point = None
        if data.get("lat") is not None and data.get("lon") is not None:
            point = Point(data["lon"], data["lat"], srid=4326)
            point.transform(SRID)
        elif data.get("x") is not None and data.get("y") is not None:
            point = Point(data["x"], data["y"], srid=SRID)
        data["point"] = point
        needs_place = kind in (ScenarioChange.Kind.ADD, ScenarioChange.Kind.MOVE)
        if needs_place and point is None and not data.get("planungsraum"):
            raise forms.ValidationError(
                _("Please click on the map, give coordinates or choose a Planungsraum.")
            )
        if kind != ScenarioChange.Kind.ADD and not data.get("facility"):
            self.add_error("facility", _("Please choose a facility of the register."))
        if kind in (ScenarioChange.Kind.ADD, ScenarioChange.Kind.CAPACITY) and (
            data.get("capacity") is None
        ):
            self.add_error("capacity", _("Please give the capacity."))
        return data


class ScenarioResultForm(forms.Form):
    """Method and level of the computed comparison (GET parameters)."""

    method = forms.ChoiceField(
        choices=[("2sfca", "2sfca"), ("grenzen", "grenzen")], required=False
    )
    level = forms.ChoiceField(
        choices=[
            (level, level)
            for level in ("planungsraum", "bezirksregion", "prognoseraum", "bezirk")
        ],
        required=False,
    )


class ScenarioAttachForm(forms.Form):
    """Which planning scenarios (of those the user may open) are attached to
    a saved query or a profile measure (queries and profiles use it)."""

    scenarios = forms.ModelMultipleChoiceField(
        label=_("Planning scenarios"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, scenarios, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scenarios"].queryset = scenarios
