from pathlib import Path

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from lor.models import LorUnit

from .models import ImportRun, Theme

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
        queryset=LorUnit.objects.filter(level=LorUnit.Level.BEZIRK).order_by("code"),
    )

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
                regex=r"^\d{8}$",
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
                        f"other_{key}", _("Please enter an existing 8-digit LOR key.")
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
