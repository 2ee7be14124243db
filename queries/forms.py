import json
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from datapool.api_params import ParamError, number_parse
from lor import hierarchy
from lor.models import LorUnit
from queries.models import SavedQuery

CONDITION_RE = re.compile(
    r"^\s*(?P<column>[A-Za-z0-9_]+)\s*(?P<op><=|>=|!=|<|>|=)\s*"
    r"(?P<value>[-+]?\d+(?:[.,]\d+)?)\s*$"
)
# Finest first: most queries are about Planungsräume.
LEVELS = [
    (level, level.label) for level in map(LorUnit.Level, reversed(hierarchy.LEVELS))
]


class SavedQueryForm(forms.Form):
    """Title, reference, sharing and a selection, typed in or posted as JSON."""

    title = forms.CharField(label=_("Title"), max_length=200)
    inquiry_reference = forms.CharField(
        label=_("Inquiry reference"),
        max_length=120,
        required=False,
        help_text=_('E.g. "Drucksache 19/12345" or "BVV-Anfrage 0815/XXI".'),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea({"rows": 3})
    )
    sharing = forms.ChoiceField(
        label=_("Sharing"),
        choices=SavedQuery.Sharing.choices,
        initial=SavedQuery.Sharing.PRIVATE,
        help_text=_(
            "Private: only you. District: the planners and data coordinators of the "
            "chosen district and the administrators. All staff: every planner, data "
            "coordinator and administrator. Guest reviewers see no shared queries."
        ),
    )
    district = forms.ModelChoiceField(
        label=_("District"),
        queryset=LorUnit.objects.filter(
            level=LorUnit.Level.BEZIRK, scheme=LorUnit.Scheme.LOR_2021
        ).order_by("code"),
        required=False,
        help_text=_("Needed when sharing with a district; preset to your district."),
    )
    level = forms.ChoiceField(label=_("Level"), choices=LEVELS, required=False)
    columns = forms.CharField(
        label=_("Columns"),
        required=False,
        help_text=_("Variable or indicator keys, separated by commas."),
        widget=forms.TextInput({"placeholder": "E_E, KI_ANTEIL_U18"}),
    )
    date = forms.DateField(
        label=_("Reference date"),
        required=False,
        help_text=_("Empty: the latest date of each column."),
        widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d"),
    )
    conditions = forms.CharField(
        label=_("Conditions"),
        required=False,
        help_text=_("One per line, e.g. KI_ANTEIL_U18 > 20."),
        widget=forms.Textarea({"rows": 3, "placeholder": "KI_ANTEIL_U18 > 20"}),
    )
    within = forms.CharField(
        label=_("Only units within key"),
        max_length=8,
        required=False,
        help_text=_('E.g. "03" for Pankow.'),
    )
    selection_json = forms.CharField(required=False, widget=forms.HiddenInput)
    presentation_json = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        # How the explorer showed the selection (classes, colours, map view).
        try:
            presentation = json.loads(data.get("presentation_json") or "{}")
        except (ValueError, RecursionError):
            presentation = {}
        data["presentation"] = presentation if isinstance(presentation, dict) else {}
        if data.get("sharing") == SavedQuery.Sharing.DISTRICT and not data.get(
            "district"
        ):
            self.add_error(
                "district", _("A query shared with a district needs the district.")
            )
        raw = (data.get("selection_json") or "").strip()
        if raw:
            try:
                data["selection"] = json.loads(raw)
            except (ValueError, RecursionError) as exc:
                raise forms.ValidationError(
                    _("The posted selection is not valid JSON.")
                ) from exc
            return data
        if not data.get("level"):
            self.add_error("level", _("Please choose a level."))
        conditions = []
        for line in (data.get("conditions") or "").splitlines():
            if not line.strip():
                continue
            match = CONDITION_RE.match(line)
            if not match:
                self.add_error(
                    "conditions",
                    _("Not a condition: %(line)s") % {"line": line.strip()},
                )
                continue
            try:
                value = number_parse(match["value"].replace(",", "."))
            except ParamError as exc:
                self.add_error("conditions", exc.message)
                continue
            conditions.append(
                {"column": match["column"], "op": match["op"], "value": value}
            )
        columns = [
            c.strip() for c in (data.get("columns") or "").split(",") if c.strip()
        ]
        data["selection"] = {
            "level": data.get("level") or "",
            "columns": columns,
            "date": data["date"].isoformat() if data.get("date") else None,
            "derived": [],
            "conditions": conditions,
            "within": (data.get("within") or "").strip(),
        }
        return data
