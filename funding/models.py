"""Funding (Fördermittel): programmes, funding areas, projects and their amounts.

Every record says where it comes from (``source``, ``licence``) and whether it is
example data (``is_example``): example records are marked as such wherever they
show (pages, maps, tables, exports). Links from profile goals and measures to
projects live on the profile side (profiles may import funding, not vice versa).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from lor.models import LorUnit

EXAMPLE_NOTE = "Beispieldaten – keine amtlichen Zahlen"


class Sourced(models.Model):
    """Where a record comes from and whether it is example data."""

    source = models.CharField(_("source"), max_length=300, blank=True)
    licence = models.CharField(_("licence"), max_length=200, blank=True)
    is_example = models.BooleanField(
        _("example data"),
        default=False,
        help_text=_("Example data, not official figures; marked wherever it shows."),
    )

    class Meta:
        abstract = True


class Programme(Sourced):
    """A funding programme (e.g. Sozialer Zusammenhalt) with its funder and period."""

    key = models.SlugField(_("key"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    funder = models.CharField(_("funder"), max_length=300, blank=True)
    period_start = models.PositiveSmallIntegerField(
        _("period from (year)"), null=True, blank=True
    )
    period_end = models.PositiveSmallIntegerField(
        _("period to (year)"), null=True, blank=True
    )
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("funding programme")
        verbose_name_plural = _("funding programmes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def period(self) -> str:
        if self.period_start and self.period_end:
            return f"{self.period_start}–{self.period_end}"
        if self.period_start:
            return f"ab {self.period_start}"
        return ""


class FundingArea(Sourced):
    """A Fördergebiet: a polygon or a set of Planungsräume, valid for a period.

    ``units`` always holds the Planungsräume the area covers (for a polygon:
    those at least half inside, the rule of custom areas), so that amounts can
    be distributed to LOR units either way.
    """

    key = models.SlugField(_("key"), max_length=60, unique=True)
    programme = models.ForeignKey(
        Programme,
        verbose_name=_("programme"),
        on_delete=models.PROTECT,
        related_name="areas",
    )
    name = models.CharField(_("name"), max_length=200)
    district = models.ForeignKey(
        LorUnit,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": LorUnit.Level.BEZIRK},
    )
    geom = models.MultiPolygonField(_("boundary"), srid=25833, null=True, blank=True)
    units = models.ManyToManyField(
        LorUnit,
        verbose_name=_("Planungsräume"),
        related_name="+",
        blank=True,
        limit_choices_to={"level": LorUnit.Level.PLANUNGSRAUM},
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        verbose_name = _("funding area")
        verbose_name_plural = _("funding areas")
        ordering = ["district__code", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_to__gt=models.F("valid_from")),
                name="funding_area_valid_to_after_valid_from",
            )
        ]

    def __str__(self) -> str:
        return self.name


class FundingImport(models.Model):
    """One uploaded project file and the life of its import (polled by the page)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    file = models.FileField(_("file"), upload_to="funding/")
    original_name = models.CharField(_("file name"), max_length=255)
    district = models.ForeignKey(
        LorUnit,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": LorUnit.Level.BEZIRK},
    )
    source = models.CharField(_("source"), max_length=300, blank=True)
    licence = models.CharField(_("licence"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveIntegerField(default=0)
    phase = models.CharField(max_length=20, blank=True)
    percent = models.PositiveSmallIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    report = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("funding import")
        verbose_name_plural = _("funding imports")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("funding:import-detail", kwargs={"pk": self.pk})


class Project(Sourced):
    """A Maßnahme: what is funded, where (area, Planungsraum or point), by whom."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        APPROVED = "approved", _("approved")
        RUNNING = "running", _("running")
        COMPLETED = "completed", _("completed")

    number = models.CharField(
        _("project number"),
        max_length=40,
        help_text=_("Unique within the district; a re-import updates the project."),
    )
    district = models.ForeignKey(
        LorUnit,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": LorUnit.Level.BEZIRK},
    )
    programme = models.ForeignKey(
        Programme,
        verbose_name=_("programme"),
        on_delete=models.PROTECT,
        related_name="projects",
    )
    area = models.ForeignKey(
        FundingArea,
        verbose_name=_("funding area"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="projects",
    )
    unit = models.ForeignKey(
        LorUnit,
        verbose_name=_("Planungsraum"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"level": LorUnit.Level.PLANUNGSRAUM},
        help_text=_("Where the project takes place, if not in a whole area."),
    )
    location = models.PointField(_("location"), srid=25833, null=True, blank=True)
    title = models.CharField(_("title"), max_length=300)
    sponsor = models.CharField(_("Träger"), max_length=300, blank=True)
    field_of_action = models.CharField(_("Handlungsfeld"), max_length=200, blank=True)
    start = models.DateField(_("start"), null=True, blank=True)
    end = models.DateField(_("end"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PLANNED
    )
    source_import = models.ForeignKey(
        FundingImport,
        verbose_name=_("import"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="projects",
    )
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("funding project")
        verbose_name_plural = _("funding projects")
        ordering = ["district__code", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "number"], name="funding_project_unique_number"
            ),
            models.CheckConstraint(
                condition=models.Q(end__isnull=True)
                | models.Q(start__isnull=True)
                | models.Q(end__gte=models.F("start")),
                name="funding_project_end_after_start",
            ),
            # A project must be somewhere: an area, a Planungsraum or a point.
            models.CheckConstraint(
                condition=models.Q(area__isnull=False)
                | models.Q(unit__isnull=False)
                | models.Q(location__isnull=False),
                name="funding_project_has_place",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("funding:project-detail", kwargs={"pk": self.pk})


class ProjectAmount(models.Model):
    """Approved (bewilligt) and paid (ausgezahlt) euros of a project in one year."""

    project = models.ForeignKey(
        Project,
        verbose_name=_("project"),
        on_delete=models.CASCADE,
        related_name="amounts",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    approved = models.DecimalField(
        _("approved (EUR)"), max_digits=14, decimal_places=2, default=0
    )
    paid = models.DecimalField(
        _("paid (EUR)"), max_digits=14, decimal_places=2, default=0
    )

    class Meta:
        verbose_name = _("amount per year")
        verbose_name_plural = _("amounts per year")
        ordering = ["project", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "year"], name="funding_amount_unique_year"
            ),
            models.CheckConstraint(
                condition=models.Q(approved__gte=0) & models.Q(paid__gte=0),
                name="funding_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.number} {self.year}"
