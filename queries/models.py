"""Saved queries: explorer selections kept to answer political inquiries."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from lor.models import LorUnit


class SavedQuery(models.Model):
    """A named explorer selection kept to answer an inquiry, optionally pinned.

    ``selection`` is ``Selection.as_dict()``; ``presentation`` holds how the answer
    is shown (classification, palette, map view). A pinned query keeps the answer
    it had when it was pinned in ``snapshot`` (rows, column metadata and the import
    runs behind them) so it can be reproduced after later imports.
    """

    class Sharing(models.TextChoices):
        PRIVATE = "private", _("Private")
        # Visible to the planners and coordinators of ``district`` (and to
        # administrators); the rule is ``queries.selectors._visible_q``.
        DISTRICT = "district", _("District")
        STAFF = "staff", _("All staff")

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    inquiry_reference = models.CharField(
        _("inquiry reference"),
        max_length=120,
        blank=True,
        help_text=_('E.g. "Drucksache 19/12345" or "BVV-Anfrage 0815/XXI".'),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="saved_queries",
    )
    sharing = models.CharField(
        _("sharing"), max_length=16, choices=Sharing.choices, default=Sharing.PRIVATE
    )
    district = models.ForeignKey(
        LorUnit,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        limit_choices_to={"level": LorUnit.Level.BEZIRK},
        related_name="+",
    )
    selection = models.JSONField(_("selection"))
    presentation = models.JSONField(_("presentation"), default=dict, blank=True)
    pinned = models.BooleanField(_("pinned"), default=False)
    pinned_at = models.DateTimeField(_("pinned at"), null=True, blank=True)
    snapshot = models.JSONField(_("pinned answer"), null=True, blank=True)
    # Planning scenarios behind the answer (infrastructure); each reader sees
    # only those they may open.
    scenarios = models.ManyToManyField(
        "infrastructure.Scenario",
        verbose_name=_("planning scenarios"),
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The table was created by the project package's migrations; it keeps its name.
        db_table = "prisma_savedquery"
        verbose_name = _("saved query")
        verbose_name_plural = _("saved queries")
        ordering = ["-updated_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pinned=False)
                | (
                    models.Q(pinned_at__isnull=False) & models.Q(snapshot__isnull=False)
                ),
                name="saved_query_pinned_has_snapshot",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("queries:detail", kwargs={"pk": self.pk})
