"""Forms of the profile pages: they parse input; services decide and write."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from datapool.models import Indicator
from datapool.themes import ProfileTheme
from funding.models import EXAMPLE_NOTE, Project
from funding.selectors import project_list
from lor.hierarchy import BEZIRK, key_prefix
from lor.models import LorUnit

from .analysis import profile_ref_dates
from .models import Goal, Measure, Priority, ProfileEdition

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _ref_date_choices() -> list[tuple[str, str]]:
    return [("", _("latest"))] + [
        (d.isoformat(), d.strftime("%d.%m.%Y")) for d in reversed(profile_ref_dates())
    ]


class ProfileFilterForm(forms.Form):
    bezirk = forms.ChoiceField(label=_("District"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("all"))] + list(ProfileEdition.Status.choices),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bezirk"].choices = [("", _("all districts"))] + [
            (code, f"{code} {name}")
            for code, name in LorUnit.objects.filter(
                scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRK
            )
            .order_by("code")
            .values_list("code", "name")
        ]


class EditionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    ref_date = forms.TypedChoiceField(
        label=_("Reference date of the data"),
        required=False,
        coerce=date.fromisoformat,
        empty_value=None,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ref_date"].choices = _ref_date_choices()


class TransitionForm(forms.Form):
    status = forms.ChoiceField(choices=ProfileEdition.Status.choices)
    adopted_on = forms.DateField(
        label=_("Adopted on"), required=False, widget=DATE_WIDGET
    )
    decision_reference = forms.CharField(
        label=_("Bezirksamt decision"), max_length=120, required=False
    )


def _indicator_choices() -> list[tuple[str, str]]:
    return [
        (key, f"{name} ({key})")
        for key, name in Indicator.objects.filter(is_core=True)
        .order_by("theme", "sort_order", "variable__key")
        .values_list("variable__key", "variable__name")
    ]


class _PartForm(forms.Form):
    """A form of a goal, measure or assessment; its fields are named as the model's.

    ``edition`` is the edition the part belongs to (choices may depend on it).
    """

    def __init__(self, *args, edition: ProfileEdition | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.edition = edition

    @classmethod
    def initial_for(cls, obj) -> dict:
        return {name: getattr(obj, name) for name in cls.base_fields}


class GoalForm(_PartForm):
    theme = forms.ChoiceField(label=_("Theme"), choices=ProfileTheme.choices)
    text = forms.CharField(
        label=_("Goal"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
    department = forms.CharField(label=_("Responsible department"), max_length=120)
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.MEDIUM
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=Goal.Status.choices, initial=Goal.Status.OPEN
    )
    indicators = forms.MultipleChoiceField(
        label=_("Linked indicators"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["indicators"].choices = _indicator_choices()


class MeasureForm(_PartForm):
    text = forms.CharField(
        label=_("Measure"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
    department = forms.CharField(
        label=_("Responsible department"), max_length=120, required=False
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=Measure.Status.choices, initial="planned"
    )
    due = forms.DateField(label=_("Due"), required=False, widget=DATE_WIDGET)
    funding_projects = forms.ModelMultipleChoiceField(
        label=_("Funding projects"),
        queryset=Project.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Funded projects of the district that serve this measure."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only projects of the region's district may be linked.
        bezirk = key_prefix(self.edition.region.code, BEZIRK) if self.edition else None
        self.fields["funding_projects"].queryset = (
            project_list(district_code=bezirk) if bezirk else Project.objects.none()
        )
        self.fields["funding_projects"].label_from_instance = _project_label

    @classmethod
    def initial_for(cls, obj) -> dict:
        initial = super().initial_for(obj)
        initial["funding_projects"] = [p.pk for p in obj.funding_projects.all()]
        return initial


def _project_label(project: Project) -> str:
    label = f"{project.number} {project.title} ({project.programme.name})"
    return f"{label} – {EXAMPLE_NOTE}" if project.is_example else label


class AssessmentForm(_PartForm):
    department = forms.CharField(label=_("Department"), max_length=120)
    text = forms.CharField(
        label=_("Assessment"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20000,
    )
