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


class CrosswalkPiece(models.Model):
    """One piece of the overlay LOR 2006 → LOR 2021 at Planungsraum level.

    A value of an old Planungsraum is split onto the new ones by its weights;
    each old unit's weights sum to 1 (method and measured error:
    docs/crosswalk.md). Written only by ``lor.services.crosswalk_compute``.
    """

    class Method(models.TextChoices):
        # Areal overlay calibrated by iterative proportional fitting to the
        # population of both schemes on 31.12.2020.
        IPF = "ipf", _("population-calibrated (IPF)")
        # No population to calibrate with (uninhabited old unit): area share.
        AREA = "area", _("area share")

    class Relation(models.TextChoices):
        # How the new unit is made of old ones (the same for all its pieces).
        ONE_TO_ONE = "1:1", _("same area (1:1)")
        UNION = "union", _("union of whole old units")
        SPLIT = "split", _("made of parts of old units")

    old_unit = models.ForeignKey(
        LorUnit, on_delete=models.CASCADE, related_name="crosswalk_to"
    )
    new_unit = models.ForeignKey(
        LorUnit, on_delete=models.CASCADE, related_name="crosswalk_from"
    )
    area_m2 = models.FloatField(_("area of the piece (m²)"))
    weight_area = models.FloatField(_("share of the old unit's area"))
    weight_population = models.FloatField(_("share of the old unit's population"))
    population = models.FloatField(
        _("population 31.12.2020 in the piece (calibrated)"), default=0.0
    )
    method = models.CharField(_("method"), max_length=8, choices=Method.choices)
    relation = models.CharField(_("relation"), max_length=8, choices=Relation.choices)

    class Meta:
        verbose_name = _("crosswalk piece")
        verbose_name_plural = _("crosswalk pieces")
        ordering = ["old_unit__code", "new_unit__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["old_unit", "new_unit"], name="crosswalk_piece_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.old_unit.code} → {self.new_unit.code}"
