from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from core.access import user_bezirk_code, user_is_admin
from lor import hierarchy
from lor.models import LorUnit

from .models import FundingArea, Programme, Project
from .selectors import LEVELS, MEASURES, funding_years

LEVEL_CHOICES = [
    (hierarchy.PLANUNGSRAUM, _("Planungsraum")),
    (hierarchy.BEZIRKSREGION, _("Bezirksregion")),
    (hierarchy.BEZIRK, _("Bezirk")),
]
MEASURE_CHOICES = [("approved", _("approved")), ("paid", _("paid"))]
UPLOAD_SUFFIXES = (".csv", ".xlsx")


def _districts():
    return LorUnit.objects.filter(
        scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRK
    ).order_by("code")


class SteeringForm(forms.Form):
    """What the steering page shows: level, year, programme, district, measure."""

    level = forms.ChoiceField(label=_("Level"), choices=LEVEL_CHOICES, required=False)
    year = forms.TypedChoiceField(
        label=_("Year"), required=False, coerce=int, empty_value=None
    )
    programme = forms.ModelChoiceField(
        label=_("Programme"),
        queryset=Programme.objects.order_by("name"),
        required=False,
        empty_label=_("all programmes"),
        to_field_name="key",
    )
    district = forms.ModelChoiceField(
        label=_("District"),
        queryset=LorUnit.objects.none(),
        required=False,
        empty_label=_("all of Berlin"),
        to_field_name="code",
    )
    measure = forms.ChoiceField(
        label=_("Amount"), choices=MEASURE_CHOICES, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", _("all years"))] + [
            (y, str(y)) for y in funding_years()
        ]
        self.fields["district"].queryset = _districts()

    def selection(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        level = data.get("level") or hierarchy.BEZIRKSREGION
        measure = data.get("measure") or "approved"
        district = data.get("district")
        return {
            "level": level if level in LEVELS else hierarchy.BEZIRKSREGION,
            "year": data.get("year"),
            "programme": data.get("programme"),
            "district_code": district.code if district else None,
            "measure": measure if measure in MEASURES else "approved",
        }


class FundingUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Project file (CSV or XLSX, as the template)"),
    )
    district = forms.ModelChoiceField(
        label=_("District"), queryset=LorUnit.objects.none(), to_field_name="code"
    )
    source = forms.CharField(
        label=_("Source"),
        max_length=300,
        required=False,
        help_text=_("Who delivered the figures, e.g. the district's QM coordination."),
    )
    licence = forms.CharField(label=_("Licence"), max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        districts = _districts()
        if not user_is_admin(user):
            districts = districts.filter(code=user_bezirk_code(user) or "--")
            own = districts.first()
            if own is not None:
                self.fields["district"].initial = own.code
        self.fields["district"].queryset = districts

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(UPLOAD_SUFFIXES):
            raise forms.ValidationError(
                _("Please upload a CSV or XLSX file made from the template.")
            )
        return upload


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = [
            "title",
            "programme",
            "area",
            "unit",
            "sponsor",
            "field_of_action",
            "start",
            "end",
            "status",
        ]
        widgets = {
            "start": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        district = self.instance.district
        self.fields["area"].queryset = FundingArea.objects.filter(district=district)
        self.fields["unit"].queryset = LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021,
            level=LorUnit.Level.PLANUNGSRAUM,
            code__startswith=district.code,
        ).order_by("code")

    def clean(self):
        data = super().clean()
        if not (data.get("area") or data.get("unit") or self.instance.location):
            raise forms.ValidationError(
                _("Give a funding area or a Planungsraum: where does it take place?")
            )
        return data


class AmountForm(forms.Form):
    # Not localized: a year is no number with thousands separators.
    year = forms.IntegerField(label=_("Year"), min_value=1990, max_value=2100)
    # Localized: coordinators type euros with a decimal comma (250,50).
    approved = forms.DecimalField(
        label=_("approved (EUR)"),
        min_value=Decimal(0),
        max_digits=14,
        decimal_places=2,
        localize=True,
    )
    paid = forms.DecimalField(
        label=_("paid (EUR)"),
        min_value=Decimal(0),
        max_digits=14,
        decimal_places=2,
        localize=True,
    )
