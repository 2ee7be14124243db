"""The facility register: facilities of several types with capacity and history."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from datapool.formula import FormulaError, formula_parse
from lor.models import LorUnit


class FacilityType(models.Model):
    """A kind of facility (Kita, Spielplatz, …) and the unit its capacity is in."""

    key = models.SlugField(_("key"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    capacity_unit = models.CharField(
        _("capacity unit"),
        max_length=60,
        help_text=_("For example places, m² net play area or m²."),
    )
    demand_group = models.TextField(
        _("demand group"),
        blank=True,
        help_text=_("Who the supply is for, e.g. children under 6 or all residents."),
    )
    supply_variable = models.CharField(
        _("supply variable"),
        max_length=40,
        blank=True,
        help_text=_(
            "Datenpool variable that receives the summed capacity per Planungsraum."
        ),
    )
    source = models.CharField(_("source"), max_length=300, blank=True)
    license = models.CharField(_("licence"), max_length=200, blank=True)
    district = models.ForeignKey(
        LorUnit,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"level": LorUnit.Level.BEZIRK},
        help_text=_("Empty for Berlin-wide types; set for types a district adds."),
    )
    layer_key = models.SlugField(
        _("map layer"),
        max_length=40,
        blank=True,
        help_text=_(
            "Key of the Datenpool facility layer to which the register publishes "
            "the type's current facilities, so the maps draw them."
        ),
    )

    class Meta:
        verbose_name = _("facility type")
        verbose_name_plural = _("facility types")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FacilityImport(models.Model):
    """One imported file; a re-import of the same file replaces its facilities."""

    facility_type = models.ForeignKey(
        FacilityType,
        verbose_name=_("facility type"),
        on_delete=models.PROTECT,
        related_name="imports",
    )
    file_name = models.CharField(_("file name"), max_length=255)
    checksum = models.CharField(_("SHA-256 of the file"), max_length=64)
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)

    class Meta:
        verbose_name = _("facility import")
        verbose_name_plural = _("facility imports")
        ordering = ["-imported_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility_type", "file_name"],
                name="facility_import_unique_type_file",
            )
        ]

    def __str__(self) -> str:
        return self.file_name


class Facility(models.Model):
    """One facility with its capacity, valid from its opening to its closing date."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        PLANNED = "planned", _("planned")
        CLOSED = "closed", _("closed")

    facility_type = models.ForeignKey(
        FacilityType,
        verbose_name=_("facility type"),
        on_delete=models.PROTECT,
        related_name="facilities",
    )
    name = models.CharField(_("name"), max_length=300, blank=True, default="")
    source_key = models.CharField(
        _("key in the source"), max_length=80, blank=True, default=""
    )
    # Point or polygon; empty for records that only a table delivers, which
    # carry their Planungsraum instead.
    geom = models.GeometryField(_("location"), srid=25833, null=True, blank=True)
    unit = models.ForeignKey(
        LorUnit,
        verbose_name=_("Planungsraum"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"level": LorUnit.Level.PLANUNGSRAUM},
    )
    capacity = models.DecimalField(
        _("capacity"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("In the type's unit; empty where the source did not record it."),
    )
    operator = models.CharField(_("operator"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(
        _("valid to"),
        null=True,
        blank=True,
        help_text=_("Closing date: from this day on the facility no longer counts."),
    )
    source_import = models.ForeignKey(
        FacilityImport,
        verbose_name=_("import"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="facilities",
    )
    # Further attributes of the source (address, kind, Träger type …), kept as
    # delivered so that nothing the file said is lost.
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, null=True)

    class Meta:
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        ordering = ["facility_type", "name"]
        indexes = [models.Index(fields=["facility_type", "unit"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_to__gt=models.F("valid_from")),
                name="facility_valid_to_after_valid_from",
            )
        ]

    def __str__(self) -> str:
        return self.name or self.source_key or f"#{self.pk}"


class FacilityUpload(models.Model):
    """A table or GIS file uploaded in the browser; its task writes all or nothing."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Completed")
        FAILED = "failed", _("Failed")

    file = models.FileField(_("file"), upload_to="facility_uploads/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    facility_type = models.ForeignKey(
        FacilityType,
        verbose_name=_("default facility type"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    district = models.ForeignKey(
        LorUnit,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"level": LorUnit.Level.BEZIRK},
        help_text=_("The uploader's district; its facilities must lie in it."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    percent = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    problems = models.JSONField(_("problems"), default=list, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # The run fields of datapool/services/runs.py, whose lifecycle the upload
    # lives: attempts for compare-and-set, the heartbeat for the stale sweep.
    attempts = models.PositiveIntegerField(default=0)
    phase = models.CharField(max_length=20, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # The lifecycle's raw report; the page shows ``problems`` (grouped) instead.
    report = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("facility upload")
        verbose_name_plural = _("facility uploads")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name


class SupplyRule(models.Model):
    """How supply of one facility type is measured against demand (a Richtwert).

    Kept as data so administrators can correct a Richtwert or a catchment
    distance without a release; ``infrastructure/supply.py`` documents the
    methods that use it.
    """

    key = models.SlugField(
        _("key"),
        max_length=30,
        unique=True,
        help_text=_(
            "Lower case letters, digits and underscores; the published variables "
            "are named after it (VS_<KEY>_…)."
        ),
    )
    name = models.CharField(_("name"), max_length=200)
    facility_type = models.ForeignKey(
        FacilityType,
        verbose_name=_("facility type"),
        on_delete=models.PROTECT,
        related_name="supply_rules",
    )
    demand_formula = models.CharField(
        _("demand formula"),
        max_length=300,
        help_text=_(
            "Arithmetic over Datenpool variable keys giving the demand group per "
            "Planungsraum, e.g. E_E1U6 (children 1 to under 6) or E_E."
        ),
    )
    demand_label = models.CharField(
        _("demand group"),
        max_length=200,
        help_text=_("E.g. children from 1 to under 6 years."),
    )
    richtwert = models.DecimalField(
        _("Richtwert"),
        max_digits=10,
        decimal_places=3,
        help_text=_("Capacity needed per person of the demand group."),
    )
    richtwert_unit = models.CharField(
        _("unit of the Richtwert"),
        max_length=80,
        help_text=_("E.g. m² net play area per resident."),
    )
    richtwert_source = models.TextField(
        _("source of the Richtwert"),
        help_text=_("The Berlin regulation or plan the value comes from."),
    )
    richtwert_is_assumption = models.BooleanField(
        _("Richtwert is an assumption"),
        default=False,
        help_text=_("Set where no binding Berlin value could be cited."),
    )
    catchment_m = models.PositiveIntegerField(
        _("catchment distance (m)"),
        help_text=_(
            "Straight-line distance within which a facility serves a Planungsraum "
            "(its population point) in the catchment method."
        ),
    )
    catchment_source = models.TextField(_("source of the catchment"), blank=True)
    min_capacity = models.DecimalField(
        _("minimum capacity"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_(
            "Facilities below this capacity do not count (e.g. green spaces "
            "under 0.5 ha for the wohnungsnahe Versorgung)."
        ),
    )
    active = models.BooleanField(
        _("published"),
        default=True,
        help_text=_("Active rules are computed and published into the Datenpool."),
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("supply rule")
        verbose_name_plural = _("supply rules")
        ordering = ["facility_type", "key"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(richtwert__gt=0), name="supply_rule_richtwert_gt_0"
            ),
            models.CheckConstraint(
                condition=models.Q(catchment_m__gt=0),
                name="supply_rule_catchment_gt_0",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.key or ""):
            raise ValidationError(
                {"key": _("Lower case letters, digits and underscores only.")}
            )
        try:
            formula_parse(self.demand_formula)
        except FormulaError as exc:
            raise ValidationError({"demand_formula": str(exc)}) from exc

    @property
    def variable_prefix(self) -> str:
        """Prefix of the published Datenpool variables (``VS_KITA``)."""
        return f"VS_{self.key.upper()}"


class Scenario(models.Model):
    """A planner's "what if" on one supply rule: changes to the register's
    facilities that are only computed, never written to the register or the
    Datenpool (``infrastructure/scenarios.py``).

    Private to its owner unless ``shared``: then the planners and data
    coordinators of ``district`` see it too (``core.access.scenario_*``).
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="supply_scenarios",
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    rule = models.ForeignKey(
        SupplyRule,
        verbose_name=_("supply rule"),
        on_delete=models.PROTECT,
        related_name="scenarios",
    )
    ref_date = models.DateField(_("reference date"))
    district = models.ForeignKey(
        LorUnit,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"level": LorUnit.Level.BEZIRK},
    )
    shared = models.BooleanField(
        _("shared with the district"),
        default=False,
        help_text=_(
            "Planners and data coordinators of the district may open it; only "
            "the owner changes it."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("planning scenario")
        verbose_name_plural = _("planning scenarios")
        ordering = ["-updated_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("scenarios:detail", kwargs={"pk": self.pk})


class ScenarioChange(models.Model):
    """One change of a scenario: add, move, change the capacity of, or close a
    facility. Applied in the order they were made."""

    class Kind(models.TextChoices):
        ADD = "add", _("add")
        MOVE = "move", _("move")
        CAPACITY = "capacity", _("change capacity")
        CLOSE = "close", _("close")

    scenario = models.ForeignKey(
        Scenario, on_delete=models.CASCADE, related_name="changes"
    )
    kind = models.CharField(_("change"), max_length=10, choices=Kind.choices)
    # The register's facility a move, capacity change or closure applies to;
    # a facility removed from the register leaves the change without effect.
    facility = models.ForeignKey(
        Facility,
        verbose_name=_("facility"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    name = models.CharField(_("name"), max_length=300, blank=True)
    geom = models.PointField(_("location"), srid=25833, null=True, blank=True)
    capacity = models.DecimalField(
        _("capacity"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    closing_date = models.DateField(_("closing date"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("scenario change")
        verbose_name_plural = _("scenario changes")
        ordering = ["scenario", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="add", geom__isnull=False, capacity__gt=0)
                | models.Q(kind="move", geom__isnull=False)
                | models.Q(kind="capacity", capacity__gte=0)
                | models.Q(kind="close", closing_date__isnull=False),
                name="scenario_change_complete",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name or self.facility}"
