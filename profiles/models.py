"""Bezirksregionenprofile: one profile per Bezirksregion, in numbered editions.

An edition carries the conceptual part (goals with measures, departments'
assessments); its analysis part is generated from the Datenpool while the edition
is being worked on and frozen as a JSON snapshot when the Bezirksamt adopts it.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from datapool.themes import ProfileTheme
from lor.models import LorUnit


class Profile(models.Model):
    """The profile of one Bezirksregion (LOR 2021) across all its editions."""

    region = models.OneToOneField(
        LorUnit,
        verbose_name=_("Bezirksregion"),
        on_delete=models.PROTECT,
        limit_choices_to={"level": LorUnit.Level.BEZIRKSREGION},
        related_name="profile",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Bezirksregionenprofil")
        verbose_name_plural = _("Bezirksregionenprofile")
        ordering = ["region__code"]

    def __str__(self) -> str:
        return f"{self.region.code} {self.region.name}"

    def get_absolute_url(self) -> str:
        return reverse("profiles:region", kwargs={"code": self.region.code})


class ProfileEdition(models.Model):
    """One edition (first profile or a Fortschreibung); adopted editions are frozen."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        REVIEW = "review", _("In review")
        ADOPTED = "adopted", _("Adopted")

    profile = models.ForeignKey(
        Profile, on_delete=models.CASCADE, related_name="editions"
    )
    number = models.PositiveSmallIntegerField(_("edition"))
    title = models.CharField(_("title"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    ref_date = models.DateField(
        _("reference date of the data"),
        null=True,
        blank=True,
        help_text=_("Empty: the latest reference date in the Datenpool."),
    )
    adopted_on = models.DateField(_("adopted on"), null=True, blank=True)
    decision_reference = models.CharField(
        _("Bezirksamt decision"),
        max_length=120,
        blank=True,
        help_text=_("E.g. BA-Beschluss Nr. 123/2025."),
    )
    analysis_snapshot = models.JSONField(
        _("frozen analysis"), null=True, blank=True, editable=False
    )
    based_on = models.ForeignKey(
        "self",
        verbose_name=_("continues edition"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="continuations",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("profile edition")
        verbose_name_plural = _("profile editions")
        ordering = ["profile__region__code", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "number"], name="profile_edition_unique_number"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="adopted")
                | (
                    models.Q(adopted_on__isnull=False)
                    & models.Q(analysis_snapshot__isnull=False)
                ),
                name="profile_edition_adopted_is_dated_and_frozen",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.profile} – {self.number}. {_('edition')}"

    def get_absolute_url(self) -> str:
        return reverse("profiles:edition-detail", kwargs={"pk": self.pk})

    @property
    def is_frozen(self) -> bool:
        return self.status == self.Status.ADOPTED

    @property
    def region(self) -> LorUnit:
        return self.profile.region


class Priority(models.TextChoices):
    HIGH = "high", _("high")
    MEDIUM = "medium", _("medium")
    LOW = "low", _("low")


class Goal(models.Model):
    """A development goal of the conceptual part, for one theme."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        IN_PROGRESS = "in_progress", _("in progress")
        ACHIEVED = "achieved", _("achieved")
        DROPPED = "dropped", _("dropped")

    edition = models.ForeignKey(
        ProfileEdition, on_delete=models.CASCADE, related_name="goals"
    )
    theme = models.CharField(_("theme"), max_length=20, choices=ProfileTheme.choices)
    text = models.TextField(_("goal"))
    department = models.CharField(_("responsible department"), max_length=120)
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.MEDIUM
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    indicators = models.JSONField(
        _("linked indicators"), default=list, blank=True, help_text=_("Indicator keys.")
    )
    origin = models.ForeignKey(
        "self",
        verbose_name=_("same goal in the previous edition"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        ordering = ["edition", "sort_order", "pk"]

    def __str__(self) -> str:
        return self.text[:80]


class Measure(models.Model):
    """A measure serving a goal."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        DROPPED = "dropped", _("dropped")

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="measures")
    text = models.TextField(_("measure"))
    department = models.CharField(
        _("responsible department"), max_length=120, blank=True
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    due = models.DateField(_("due"), null=True, blank=True)
    # Planning scenarios (infrastructure) that support the measure; each reader
    # sees only those they may open.
    scenarios = models.ManyToManyField(
        "infrastructure.Scenario",
        verbose_name=_("planning scenarios"),
        blank=True,
        related_name="+",
    )
    # Profiles sit above funding in the layers, so the link lives here; the
    # Fördermittelbericht reads it through its goal link provider (apps.py).
    funding_projects = models.ManyToManyField(
        "funding.Project",
        verbose_name=_("funding projects"),
        blank=True,
        related_name="profile_measures",
        help_text=_("Funded projects (Fördermittel) of the district serving it."),
    )
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("measure")
        verbose_name_plural = _("measures")
        ordering = ["goal", "sort_order", "pk"]

    def __str__(self) -> str:
        return self.text[:80]


class Assessment(models.Model):
    """A department's free-text assessment of the region."""

    edition = models.ForeignKey(
        ProfileEdition, on_delete=models.CASCADE, related_name="assessments"
    )
    department = models.CharField(_("department"), max_length=120)
    text = models.TextField(_("assessment"))
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["edition", "sort_order", "pk"]

    def __str__(self) -> str:
        return f"{self.department}: {self.text[:60]}"
