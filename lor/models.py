from django.contrib.gis.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import hierarchy

# Berlin's key under the name callers import from here (lor.hierarchy owns it).
BERLIN_CODE = hierarchy.BERLIN_KEY


class LorUnit(models.Model):
    """One spatial unit of a LOR scheme (or Berlin as a whole)."""

    class Scheme(models.TextChoices):
        LOR_2021 = hierarchy.LOR_2021.name, "LOR 2021"
        LOR_2006 = hierarchy.LOR_2006.name, "LOR 2006"
        CUSTOM = "custom", _("custom areas")

    class Level(models.TextChoices):
        # The values are lor.hierarchy's levels, in its order.
        BERLIN = hierarchy.BERLIN, _("Berlin")
        BEZIRK = hierarchy.BEZIRK, _("Bezirk")
        PROGNOSERAUM = hierarchy.PROGNOSERAUM, _("Prognoseraum")
        BEZIRKSREGION = hierarchy.BEZIRKSREGION, _("Bezirksregion")
        PLANUNGSRAUM = hierarchy.PLANUNGSRAUM, _("Planungsraum")
        CUSTOM = "custom", _("custom area")

    scheme = models.CharField(
        _("scheme"), max_length=16, choices=Scheme.choices, default=Scheme.LOR_2021
    )
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    code = models.CharField(_("key"), max_length=8)
    name = models.CharField(_("name"), max_length=120)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    geom = models.MultiPolygonField(_("geometry"), srid=25833)
    area_m2 = models.FloatField(_("area (m²)"), help_text=_("Computed from geometry."))
    official_area_m2 = models.FloatField(_("official area (m²)"), null=True, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    area_set = models.ForeignKey(
        "CustomAreaSet",
        verbose_name=_("custom area set"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="areas",
    )

    class Meta:
        verbose_name = _("LOR unit")
        verbose_name_plural = _("LOR units")
        ordering = ["scheme", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "code"], name="lor_unit_unique_scheme_code"
            ),
        ]
        indexes = [models.Index(fields=["scheme", "level", "code"])]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("lor:unit-detail", kwargs={"code": self.code})

    @property
    def code_prefix(self) -> str:
        """The prefix every descendant's key starts with ('' for Berlin)."""
        return hierarchy.descendant_prefix(self.code, self.level)

    @property
    def area_km2(self) -> float:
        return self.area_m2 / 1e6

    @property
    def official_area_km2(self) -> float | None:
        return None if self.official_area_m2 is None else self.official_area_m2 / 1e6


class CustomAreaSet(models.Model):
    """A planner's own set of areas (e.g. Aktionsräume plus), each a union of PLRs."""

    class Kind(models.TextChoices):
        AKTIONSRAUM = "aktionsraum", _("Aktionsraum plus")
        QM = "qm", _("Quartiersmanagement area")
        FOERDERGEBIET = "foerdergebiet", _("Funding area")
        OTHER = "other", _("Other selection")

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(
        _("kind"), max_length=16, choices=Kind.choices, default=Kind.OTHER
    )
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("custom area set")
        verbose_name_plural = _("custom area sets")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def level_key(self) -> str:
        """How the set is named wherever a level can be chosen."""
        return f"custom:{self.pk}"


class CustomAreaMember(models.Model):
    """A Planungsraum belonging to a custom area, with the share of it inside."""

    area = models.ForeignKey(LorUnit, on_delete=models.CASCADE, related_name="members")
    planungsraum = models.ForeignKey(
        LorUnit, on_delete=models.PROTECT, related_name="+"
    )
    share = models.FloatField(
        _("share of the Planungsraum's area"),
        default=1.0,
        help_text=_(
            "1.0 when picked by key; the covered share when matched from a polygon."
        ),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["area", "planungsraum"], name="custom_member_unique"
            )
        ]
