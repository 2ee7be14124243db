from pathlib import Path

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from core.access import data_edit_allowed
from lor import hierarchy
from lor.models import LorUnit

from .models import ImportRun, Variable
from .parsers.table import NON_SUMMABLE, VARIABLE_KEY
from .services.catalogue import EDITABLE_FIELDS
from .themes import Theme

# Unknown keys are mapped to a Planungsraum.
PLR_DIGITS = hierarchy.key_length(hierarchy.PLANUNGSRAUM)
ALLOWED_EXTENSIONS = {
    ".csv",
    ".txt",
    ".tsv",
    ".xlsx",
    ".geojson",
    ".json",
    ".gpkg",
    ".zip",
}


class CatalogueFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    theme = forms.ChoiceField(
        label=_("Theme"),
        required=False,
        choices=[("", _("all themes")), *Theme.choices],
    )
    supplier = forms.TypedChoiceField(
        label=_("Supplier"), required=False, coerce=int, empty_value=None, choices=[]
    )
    level = forms.ChoiceField(
        label=_("Level"),
        required=False,
        choices=[("", _("all levels")), *LorUnit.Level.choices],
    )

    def __init__(self, *args, suppliers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supplier"].choices = [("", _("all suppliers"))] + [
            (s.pk, s.name) for s in suppliers
        ]


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("File"))
    kind = forms.ChoiceField(
        label=_("Kind of data"),
        required=False,
        choices=[("", _("recognise automatically")), *ImportRun.Kind.choices],
    )
    district = forms.ModelChoiceField(
        label=_("District (for district data)"),
        required=False,
        queryset=LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRK
        ).order_by("code"),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is None:
            return  # the API: the upload rule alone decides
        # Only what the upload rule (core.access.data_edit_allowed) allows is
        # offered: a coordinator's own district, preset; every district and
        # Berlin-wide data ("---------") for administrators. Another one sent
        # anyway is still refused with a reason by the upload service.
        field = self.fields["district"]
        allowed = [
            unit
            for unit in field.queryset
            if data_edit_allowed(user=user, bezirk_code=unit.code)
        ]
        choices = [(unit.pk, field.label_from_instance(unit)) for unit in allowed]
        if data_edit_allowed(user=user, bezirk_code=None):
            choices.insert(0, ("", field.empty_label))
        elif allowed:
            field.initial = allowed[0].pk
        field.widget.choices = choices

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.PRISMA_UPLOAD_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)s; at most %(limit)s can be uploaded.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            )
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        if Path(upload.name).suffix.lower() not in ALLOWED_EXTENSIONS:
            raise forms.ValidationError(
                _("Files of this type cannot be imported. Allowed: %(types)s")
                % {"types": ", ".join(sorted(ALLOWED_EXTENSIONS))}
            )
        return upload


class UnknownKeyForm(forms.Form):
    """One decision per unknown key: map to a LOR key or skip."""

    def __init__(self, *args, unknown_keys=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.unknown_keys = list(unknown_keys)
        for item in self.unknown_keys:
            key = item["key"]
            choices = []
            if item.get("suggestion"):
                choices.append(
                    (
                        f"map:{item['suggestion']}",
                        _("map to %(code)s (%(name)s)")
                        % {"code": item["suggestion"], "name": item["suggestion_name"]},
                    )
                )
            choices += [
                ("other", _("map to another key")),
                ("skip", _("skip these rows")),
            ]
            self.fields[f"decision_{key}"] = forms.ChoiceField(
                label=key,
                choices=choices,
                widget=forms.RadioSelect,
                initial=choices[0][0],
            )
            self.fields[f"other_{key}"] = forms.RegexField(
                label=_("other LOR key for %(key)s") % {"key": key},
                regex=rf"^\d{{{PLR_DIGITS}}}$",
                required=False,
            )

    def clean(self):
        data = super().clean()
        valid = set(LorUnit.objects.values_list("code", flat=True))
        for item in self.unknown_keys:
            key = item["key"]
            if data.get(f"decision_{key}") == "other":
                target = data.get(f"other_{key}")
                if not target or target not in valid:
                    self.add_error(
                        f"other_{key}",
                        _("Please enter an existing %(digits)s-digit LOR key.")
                        % {"digits": PLR_DIGITS},
                    )
        return data

    def decisions(self) -> tuple[dict[str, str], list[str]]:
        key_map: dict[str, str] = {}
        skip: list[str] = []
        for item in self.unknown_keys:
            key = item["key"]
            decision = self.cleaned_data[f"decision_{key}"]
            if decision == "skip":
                skip.append(key)
            elif decision == "other":
                key_map[key] = self.cleaned_data[f"other_{key}"]
            else:
                key_map[key] = decision.split(":", 1)[1]
        return key_map, skip


class TableMappingForm(forms.Form):
    """The preview step of a table import: key column, date and one choice per column.

    Fields per column are named ``c<index>_<part>``; the column names of the file
    may contain anything, their position not.
    """

    IGNORE, NEW, EXISTING = "ignore", "new", "existing"
    MAPPED_AGGREGATIONS = [
        (Variable.Aggregation.SUM, _("Sum")),
        (Variable.Aggregation.NONE, _("Not aggregable")),
    ]

    key_column = forms.ChoiceField(label=_("Column with the LOR keys"))
    ref_date = forms.DateField(
        label=_("Reference date"),
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
        widget=forms.DateInput(
            attrs={"type": "date", "data-testid": "ref-date"}, format="%Y-%m-%d"
        ),
    )
    decimal = forms.ChoiceField(
        label=_("Decimal separator"),
        choices=[("point", _("point (1234.5)")), ("comma", _("comma (1234,5)"))],
    )
    supplier = forms.CharField(
        label=_("Supplier"),
        required=False,
        max_length=200,
        help_text=_("Who delivered the data; for district data the district office."),
    )
    source = forms.CharField(
        label=_("Source publication"), required=False, max_length=300
    )
    license = forms.CharField(label=_("License"), required=False, max_length=120)
    BLANK_CHOICES = [
        ("suppressed", _("suppressed (kept secret)")),
        ("zero", _("0 (zero)")),
        ("missing", _("missing (no value)")),
    ]
    BLANK_FIELDS = {"blank_dash": "–", "blank_dot": ".", "blank_empty": ""}
    blank_dash = forms.ChoiceField(
        label=_("Cells with “–” mean"), choices=BLANK_CHOICES, required=False
    )
    blank_dot = forms.ChoiceField(
        label=_("Cells with “.” mean"), choices=BLANK_CHOICES, required=False
    )
    blank_empty = forms.ChoiceField(
        label=_("Empty cells mean"), choices=BLANK_CHOICES, required=False
    )
    SUGGESTION_REASONS = {
        "earlier": _("mapped like this in an earlier import of your district"),
        "key": _("the column name is the variable key"),
        "name": _("the column name is the variable name"),
        "alias": _("the column name is a usual name of this variable"),
    }

    def __init__(self, *args, preview: dict, variables=(), mapping=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.columns = preview["columns"]
        self.variables = list(variables)
        self.variable_keys = {key for key, _name in self.variables}
        mapping = mapping or {}
        chosen = mapping.get("columns") or {}
        header = [c["name"] for c in self.columns]
        self.fields["key_column"].choices = [("", _("– choose –"))] + [
            (name, name) for name in header
        ]
        self.fields["key_column"].widget.attrs["data-testid"] = "key-column"
        self.fields["decimal"].widget.attrs["data-testid"] = "decimal"
        if preview.get("format") == "xlsx":
            self.fields["decimal"].widget = forms.HiddenInput()
        self.initial.setdefault(
            "key_column", mapping.get("key_column") or preview.get("key_column") or ""
        )
        self.initial.setdefault(
            "ref_date", mapping.get("ref_date") or preview.get("ref_date")
        )
        self.initial.setdefault(
            "decimal", mapping.get("decimal") or preview.get("decimal") or "point"
        )
        for name in ("supplier", "source", "license"):
            self.initial.setdefault(name, mapping.get(name, ""))
        blanks = mapping.get("blanks") or {}
        present = preview.get("blanks")
        for name, token in self.BLANK_FIELDS.items():
            self.initial.setdefault(name, blanks.get(token) or "suppressed")
            self.fields[name].widget.attrs["data-testid"] = name.replace("_", "-")
            if present is not None and token not in present and token not in blanks:
                # Not in the file: nothing to decide.
                self.fields[name].widget = forms.HiddenInput()
        for column in self.columns:
            self._add_column_fields(column, chosen.get(column["name"]))

    def _add_column_fields(self, column: dict, chosen) -> None:
        prefix = f"c{column['index']}_"
        test_id = column["name"]
        new = (chosen or {}).get("new") if isinstance(chosen, dict) else None
        if isinstance(chosen, str):
            chosen = {"variable": chosen}
        if chosen:
            action = self.NEW if new else self.EXISTING
            variable = chosen.get("variable", "")
        else:
            action, variable = column["action"], column["variable"]
        new = new or {}
        fields = {
            "action": forms.ChoiceField(
                label=_("Use column %(column)s as") % {"column": column["name"]},
                required=False,
                choices=[
                    (self.IGNORE, _("ignore")),
                    (self.NEW, _("new variable")),
                    (self.EXISTING, _("variable of the catalogue")),
                ],
                initial=action,
            ),
            "variable": forms.CharField(
                label=_("Variable key"),
                required=False,
                max_length=64,
                initial=variable if action == self.EXISTING else "",
                widget=forms.TextInput(attrs={"list": "catalogue-variables"}),
            ),
            "key": forms.CharField(
                label=_("Key"),
                required=False,
                max_length=64,
                initial=variable if action == self.NEW else column["new_key"],
            ),
            "name": forms.CharField(
                label=_("Name"),
                required=False,
                max_length=200,
                initial=new.get("name") or column["new_name"],
            ),
            "theme": forms.ChoiceField(
                label=_("Theme"),
                required=False,
                choices=Theme.choices,
                initial=new.get("theme") or Theme.SONSTIGES,
            ),
            "unit": forms.CharField(
                label=_("Unit"),
                required=False,
                max_length=40,
                initial=new.get("unit", column["unit"]),
            ),
            "value_type": forms.ChoiceField(
                label=_("Value type"),
                required=False,
                choices=Variable.ValueType.choices,
                initial=new.get("value_type") or column["value_type"],
            ),
            "aggregation": forms.ChoiceField(
                label=_("Aggregation rule"),
                required=False,
                choices=self.MAPPED_AGGREGATIONS,
                initial=new.get("aggregation") or column["aggregation"],
            ),
        }
        for part, field in fields.items():
            field.widget.attrs["data-testid"] = f"map-{part}-{test_id}"
            if part == "action":
                field.widget.attrs["data-mapping-action"] = ""
            self.fields[prefix + part] = field

    def column_rows(self) -> list[dict]:
        """Per column of the file: its preview data and its bound fields."""
        rows = []
        new_parts = ("key", "name", "theme", "unit", "value_type", "aggregation")
        for column in self.columns:
            prefix = f"c{column['index']}_"
            rows.append(
                {
                    "column": column,
                    "action": self[prefix + "action"],
                    "variable": self[prefix + "variable"],
                    "new_fields": [self[prefix + part] for part in new_parts],
                    "suggestion": self.SUGGESTION_REASONS.get(
                        column.get("suggested_by") or ""
                    ),
                }
            )
        return rows

    @staticmethod
    def _value_type_and_aggregation(data: dict, prefix: str) -> tuple[str, str]:
        value_type = data.get(prefix + "value_type") or Variable.ValueType.COUNT
        aggregation = data.get(prefix + "aggregation") or (
            Variable.Aggregation.NONE
            if value_type in NON_SUMMABLE
            else Variable.Aggregation.SUM
        )
        return value_type, aggregation

    def global_fields(self) -> list:
        names = (
            "key_column",
            "ref_date",
            "decimal",
            *self.BLANK_FIELDS,
            "supplier",
            "source",
            "license",
        )
        return [self[name] for name in names]

    def clean(self):
        data = super().clean()
        key_column = data.get("key_column")
        used: dict[str, str] = {}
        mapped = 0
        for column in self.columns:
            prefix = f"c{column['index']}_"
            action = data.get(prefix + "action")
            if action not in (self.NEW, self.EXISTING):
                continue
            mapped += 1
            if column["name"] == key_column:
                self.add_error(
                    prefix + "action",
                    _("The key column cannot also be mapped to a variable."),
                )
                continue
            if action == self.EXISTING:
                field = prefix + "variable"
                key = (data.get(field) or "").strip()
                if not key:
                    self.add_error(field, _("Enter the key of a catalogue variable."))
                    continue
                if key not in self.variable_keys:
                    self.add_error(
                        field,
                        _("The catalogue has no variable with the key %(key)s.")
                        % {"key": key},
                    )
                    continue
            else:
                field = prefix + "key"
                key = (data.get(field) or "").strip()
                if not VARIABLE_KEY.match(key):
                    self.add_error(
                        field,
                        _(
                            "Enter a key of at most 64 letters, digits, _ or -, "
                            "e.g. EW_INSGESAMT."
                        ),
                    )
                    continue
                if key in self.variable_keys:
                    self.add_error(
                        field,
                        _(
                            "The catalogue already has a variable %(key)s; choose "
                            "'variable of the catalogue' to add values to it."
                        )
                        % {"key": key},
                    )
                    continue
                if not (data.get(prefix + "name") or "").strip():
                    self.add_error(
                        prefix + "name", _("Enter a name for the new variable.")
                    )
                value_type, aggregation = self._value_type_and_aggregation(data, prefix)
                if aggregation == Variable.Aggregation.SUM and value_type in (
                    NON_SUMMABLE
                ):
                    self.add_error(
                        prefix + "aggregation",
                        _(
                            "Shares, indices and classes cannot be summed; choose "
                            "'Not aggregable'."
                        ),
                    )
            if key in used:
                self.add_error(
                    field,
                    _("The variable %(key)s is already mapped to column %(column)s.")
                    % {"key": key, "column": used[key]},
                )
                continue
            used[key] = column["name"]
        if not mapped:
            raise forms.ValidationError(
                _("Map at least one column to a new or existing variable.")
            )
        return data

    def mapping(self) -> dict:
        """The mapping as stored in ImportRun.options (see datapool.parsers.table)."""
        data = self.cleaned_data
        columns: dict[str, dict] = {}
        for column in self.columns:
            prefix = f"c{column['index']}_"
            action = data[prefix + "action"]
            if action == self.EXISTING:
                columns[column["name"]] = {
                    "variable": data[prefix + "variable"].strip()
                }
            elif action == self.NEW:
                value_type, aggregation = self._value_type_and_aggregation(data, prefix)
                columns[column["name"]] = {
                    "variable": data[prefix + "key"].strip(),
                    "new": {
                        "name": data[prefix + "name"].strip(),
                        "theme": data[prefix + "theme"] or Theme.SONSTIGES,
                        "unit": data[prefix + "unit"].strip(),
                        "value_type": value_type,
                        "aggregation": aggregation,
                    },
                }
        mapping = {
            "key_column": data["key_column"],
            "ref_date": data["ref_date"].isoformat(),
            "decimal": data["decimal"],
            "blanks": {
                token: data.get(name) or "suppressed"
                for name, token in self.BLANK_FIELDS.items()
            },
            "columns": columns,
        }
        for name in ("supplier", "source", "license"):
            if data.get(name, "").strip():
                mapping[name] = data[name].strip()
        return mapping


class VariableEditForm(forms.ModelForm):
    """The documentation fields of a variable that its owners may edit."""

    class Meta:
        model = Variable
        fields = list(EDITABLE_FIELDS)
