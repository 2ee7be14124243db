from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import OuterRef, Value
from django.db.models.functions import Concat, Upper
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from lor.models import LorUnit

from .formula import FormulaError, formula_parse
from .themes import ProfileTheme, Theme


class Supplier(models.Model):
    """Who delivers data: the AfS, a Senate department or a district office."""

    class Kind(models.TextChoices):
        AFS = "afs", _("Amt für Statistik Berlin-Brandenburg")
        SENATE = "senate", _("Senate department")
        DISTRICT = "district", _("District office")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    district = models.ForeignKey(
        LorUnit,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        limit_choices_to={"level": LorUnit.Level.BEZIRK},
        related_name="+",
    )

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Confidentiality(models.TextChoices):
    """Which values of a variable are confidential at small counts."""

    AUTO = "auto", _("Automatic (by supplier)")
    NONE = "none", _("None (published anonymised)")
    SMALL_COUNTS = "small_counts", _("Suppress small counts")


class Variable(models.Model):
    """One variable of the Datenpool, documented by the agreed criteria."""

    class TimeReference(models.TextChoices):
        STICHTAG = "stichtag", _("Reference date (Stichtag)")
        ZEITRAUM = "zeitraum", _("Period (Zeitraum)")

    class ValueType(models.TextChoices):
        COUNT = "count", _("Count")
        SHARE = "share", _("Share / rate")
        AMOUNT = "amount", _("Amount (area, money …)")
        INDEX = "index", _("Index or score")
        CLASS = "class", _("Class")

    class Aggregation(models.TextChoices):
        SUM = "sum", _("Sum")
        RATIO = "ratio", _("Ratio of numerator and denominator")
        WEIGHTED_MEAN = "weighted_mean", _("Weighted mean")
        NONE = "none", _("Not aggregable")

    class DeliveryCycle(models.TextChoices):
        SEMIANNUAL = "semiannual", _("Half-yearly")
        ANNUAL = "annual", _("Yearly")
        BIENNIAL = "biennial", _("Every two years")
        IRREGULAR = "irregular", _("Irregular")
        ONCE = "once", _("Once")

    key = models.CharField(_("key"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    theme = models.CharField(
        _("theme"), max_length=16, choices=Theme.choices, default=Theme.SONSTIGES
    )
    definition = models.TextField(_("definition"), blank=True)
    unit = models.CharField(_("unit"), max_length=40, blank=True)
    source = models.CharField(_("source publication"), max_length=300, blank=True)
    license = models.CharField(_("license"), max_length=120, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    time_reference = models.CharField(
        _("time reference"),
        max_length=16,
        choices=TimeReference.choices,
        default=TimeReference.STICHTAG,
    )
    value_type = models.CharField(
        _("value type"),
        max_length=16,
        choices=ValueType.choices,
        default=ValueType.COUNT,
    )
    lowest_level = models.CharField(
        _("lowest LOR level delivered"),
        max_length=16,
        choices=LorUnit.Level.choices,
        default=LorUnit.Level.PLANUNGSRAUM,
    )
    aggregation = models.CharField(
        _("aggregation rule"),
        max_length=16,
        choices=Aggregation.choices,
        default=Aggregation.SUM,
    )
    numerator = models.ForeignKey(
        "self",
        verbose_name=_("numerator"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    denominator = models.ForeignKey(
        "self",
        verbose_name=_("denominator"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    weight = models.ForeignKey(
        "self",
        verbose_name=_("weight"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    factor = models.FloatField(
        _("factor"), default=1.0, help_text=_("E.g. 100 for a percentage.")
    )
    supplier = models.ForeignKey(
        Supplier,
        verbose_name=_("supplier"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="variables",
    )
    delivery_cycle = models.CharField(
        _("delivery cycle"),
        max_length=16,
        choices=DeliveryCycle.choices,
        default=DeliveryCycle.IRREGULAR,
    )
    last_delivery = models.DateField(_("last delivery"), null=True, blank=True)
    metadata_complete = models.BooleanField(_("metadata complete"), default=True)
    district = models.ForeignKey(
        LorUnit,
        verbose_name=_("owning district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        limit_choices_to={"level": LorUnit.Level.BEZIRK},
        related_name="+",
        help_text=_("Set for data a district uploaded."),
    )
    # Roles (issue 7): district uploads stay unreleased until their coordinator
    # or an administrator releases them; guests and planners see released data only.
    released = models.BooleanField(
        _("released"),
        default=True,
        help_text=_("Released variables are visible to all staff."),
    )
    # Statistical confidentiality (issue 7): the rule datapool/confidentiality.py
    # applies when values are read for anyone but administrators and the owning
    # data coordinator.
    confidentiality = models.CharField(
        _("confidentiality rule"),
        max_length=16,
        choices=Confidentiality.choices,
        default=Confidentiality.AUTO,
        help_text=_(
            "Automatic: counts uploaded by a district office are suppressed below "
            "the threshold; data the AfS or a Senate department publishes "
            "anonymised (EWR matrix, MSS) are shown as delivered."
        ),
    )
    confidentiality_threshold = models.PositiveSmallIntegerField(
        _("confidentiality threshold"),
        default=3,
        help_text=_(
            "Counts greater than 0 and below this number are suppressed "
            "(3: counts of 1 and 2)."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("variable")
        verbose_name_plural = _("variables")
        ordering = ["theme", "key"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(aggregation="ratio")
                | (
                    models.Q(numerator__isnull=False)
                    & models.Q(denominator__isnull=False)
                ),
                name="variable_ratio_has_numerator_and_denominator",
            ),
            models.CheckConstraint(
                condition=~models.Q(aggregation="weighted_mean")
                | models.Q(weight__isnull=False),
                name="variable_weighted_mean_has_weight",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"

    def get_absolute_url(self) -> str:
        return reverse("datapool:variable-detail", kwargs={"key": self.key})


class VariableComponent(models.Model):
    """One summand of a harmonised sum: ``total`` is the sum of its components.

    Deliveries break the same population down differently (the EWR matrix by
    U1, 1U6, …; the half-yearly tables by under 6, 6–15, …). A sum variable is
    delivered by some of them and derived from its components for the dates
    the others cover (``datapool.services.harmonisation``), so a formula over it
    has a value for every date. Kept as data in
    ``datapool/metadata/variable_components.csv``.
    """

    total = models.ForeignKey(
        Variable,
        verbose_name=_("sum variable"),
        on_delete=models.CASCADE,
        related_name="component_links",
    )
    component = models.ForeignKey(
        Variable,
        verbose_name=_("component"),
        on_delete=models.PROTECT,
        related_name="sum_links",
    )

    class Meta:
        verbose_name = _("component of a sum variable")
        verbose_name_plural = _("components of sum variables")
        ordering = ["total", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["total", "component"], name="variable_component_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(total=models.F("component")),
                name="variable_component_not_itself",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.total_id} ∋ {self.component_id}"


class ImportRun(models.Model):
    """One delivery being read into the Datenpool, with its progress and report."""

    class Kind(models.TextChoices):
        EWR = "ewr", _("AfS Einwohnerregister matrix")
        MSS = "mss", _("Monitoring Soziale Stadtentwicklung table")
        CRIME_ATLAS = "crime_atlas", _("Kriminalitätsatlas (case numbers)")
        GSSA = "gssa", _("Gesundheits- und Sozialstrukturatlas table")
        TABLE = "table", _("Table (CSV/XLSX)")
        POINTS = "points", _("Point data (facilities)")
        POPULATION = "population", _("Half-yearly population table (LOR)")
        COMPUTATION = "computation", _("Indicator computation")
        # Values of an import in LOR 2006 keys converted to LOR 2021
        # (datapool.services.conversion); options["source_run"] names the import.
        CONVERSION = "conversion", _("Conversion LOR 2006 → LOR 2021")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Awaiting column mapping")
        REVIEW = "review", _("Needs a decision")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Completed")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", blank=True)
    original_name = models.CharField(_("file name"), max_length=255)
    checksum = models.CharField(_("SHA-256 of the file"), max_length=64, blank=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    district = models.ForeignKey(
        LorUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"level": LorUnit.Level.BEZIRK},
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="import_runs",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    phase = models.CharField(_("phase"), max_length=40, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    percent = models.PositiveSmallIntegerField(default=0)
    report = models.JSONField(_("validation report"), default=list, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # A table uploaded for mapping is first inspected in the worker
    # (datapool.services.inspection): {} while that is pending or failed, then
    # what the mapping page shows (columns, sample rows, guesses). None for runs
    # that need no inspection (other kinds, tables mapped on the command line).
    inspection = models.JSONField(_("table inspection"), null=True, blank=True)

    class Meta:
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.original_name} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("datapool:import-detail", kwargs={"pk": self.pk})

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED}

    @property
    def awaits_inspection(self) -> bool:
        """A table uploaded for mapping whose columns have not been read yet."""
        return self.kind == self.Kind.TABLE and self.inspection == {}

    @property
    def is_inspected(self) -> bool:
        return bool(self.inspection)


class Delivery(models.Model):
    """What one import run delivered for one variable and reference date."""

    import_run = models.ForeignKey(
        ImportRun, on_delete=models.CASCADE, related_name="deliveries"
    )
    variable = models.ForeignKey(
        Variable, on_delete=models.CASCADE, related_name="deliveries"
    )
    ref_date = models.DateField(_("reference date"))
    level = models.CharField(max_length=16, choices=LorUnit.Level.choices)
    values = models.PositiveIntegerField(default=0)
    suppressed = models.PositiveIntegerField(default=0)
    replaced = models.PositiveIntegerField(
        default=0, help_text=_("Values of an earlier run this delivery replaced.")
    )

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-import_run__created_at"]


class Observation(models.Model):
    """One value of a variable for a LOR unit and reference date."""

    class Status(models.TextChoices):
        OK = "ok", _("ok")
        SUPPRESSED = "suppressed", _("suppressed")
        MISSING = "missing", _("missing")
        ESTIMATED = "estimated", _("estimated")

    # No single-column indexes: the unique (variable, ref_date, unit) and the
    # (unit, variable) index cover both lookups, and every index slows the COPY.
    variable = models.ForeignKey(
        Variable, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    unit = models.ForeignKey(
        LorUnit, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    ref_date = models.DateField(_("reference date"))
    value = models.FloatField(_("value"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OK
    )
    is_aggregate = models.BooleanField(
        _("computed aggregate"),
        default=False,
        help_text=_("Computed from the units below, not delivered."),
    )
    incomplete = models.BooleanField(
        _("incomplete"),
        default=False,
        help_text=_("An aggregate of which some components are suppressed or missing."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    import_run = models.ForeignKey(
        ImportRun, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("observation")
        verbose_name_plural = _("observations")
        constraints = [
            models.UniqueConstraint(
                fields=["variable", "ref_date", "unit"],
                name="observation_unique_variable_date_unit",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["ok", "estimated"], value__isnull=False)
                | models.Q(status__in=["suppressed", "missing"], value__isnull=True),
                name="observation_value_matches_status",
            ),
        ]
        indexes = [models.Index(fields=["unit", "variable"])]

    def __str__(self) -> str:
        return f"{self.variable_id}/{self.unit_id}/{self.ref_date}: {self.value}"


class Coverage(models.Model):
    """How many values a variable has per level and reference date (kept by imports)."""

    variable = models.ForeignKey(
        Variable, on_delete=models.CASCADE, related_name="coverage"
    )
    level = models.CharField(max_length=16, choices=LorUnit.Level.choices)
    ref_date = models.DateField()
    units = models.PositiveIntegerField(default=0)
    values = models.PositiveIntegerField(default=0)
    suppressed = models.PositiveIntegerField(default=0)
    missing = models.PositiveIntegerField(default=0)
    incomplete = models.PositiveIntegerField(default=0)
    aggregated = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("coverage")
        verbose_name_plural = _("coverage")
        ordering = ["variable", "ref_date", "level"]
        constraints = [
            models.UniqueConstraint(
                fields=["variable", "level", "ref_date"], name="coverage_unique"
            )
        ]


# The count variable of a facility layer is named after the layer's key.
COUNT_SUFFIX = "_ANZAHL"


class FacilityLayer(models.Model):
    """A layer of point facilities (Kitas, Schulen …); each import replaces it whole."""

    key = models.SlugField(
        _("key"),
        max_length=40,
        unique=True,
        help_text=_("Lower case; the layer's variables are named after it."),
    )
    name = models.CharField(_("name"), max_length=200)
    theme = models.CharField(
        _("theme"), max_length=16, choices=Theme.choices, default=Theme.INFRASTRUKTUR
    )
    source = models.CharField(_("source"), max_length=300, blank=True)
    license = models.CharField(_("license"), max_length=120, blank=True)
    ref_date = models.DateField(_("reference date"), null=True, blank=True)
    sum_attribute = models.CharField(
        _("summed attribute"), max_length=64, blank=True, default=""
    )
    import_run = models.ForeignKey(
        ImportRun,
        verbose_name=_("import run"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    district = models.ForeignKey(
        LorUnit,
        verbose_name=_("owning district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        limit_choices_to={"level": LorUnit.Level.BEZIRK},
        related_name="+",
    )
    # Who sees the layer follows its count variable (datapool/access.py); this
    # flag additionally keeps single facilities (points, names, Planungsraum
    # keys) on the server, e.g. for shelters: only the counts are shown.
    location_confidential = models.BooleanField(
        _("location confidential"),
        default=False,
        help_text=_(
            "Only the counts per unit are shown; the locations and names of "
            "single facilities stay with administrators and the owning district."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("facility layer")
        verbose_name_plural = _("facility layers")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"

    @property
    def count_variable_key(self) -> str:
        """Key of the variable counting this layer's facilities per unit."""
        return f"{self.key.upper()}{COUNT_SUFFIX}"

    @staticmethod
    def count_variable_key_ref() -> Concat:
        """``count_variable_key`` of the outer layer, for a subquery on Variable."""
        return Concat(Upper(OuterRef("key")), Value(COUNT_SUFFIX))


class Facility(models.Model):
    """One point of a facility layer, assigned to exactly one Planungsraum."""

    layer = models.ForeignKey(
        FacilityLayer,
        verbose_name=_("layer"),
        on_delete=models.CASCADE,
        related_name="facilities",
    )
    feature_number = models.PositiveIntegerField(
        _("feature number"), help_text=_("Position in the delivered file (1 = first).")
    )
    name = models.CharField(_("name"), max_length=300, blank=True, default="")
    geom = models.PointField(_("location"), srid=25833)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    unit = models.ForeignKey(
        LorUnit,
        verbose_name=_("Planungsraum"),
        on_delete=models.PROTECT,
        limit_choices_to={"level": LorUnit.Level.PLANUNGSRAUM},
        related_name="+",
    )

    class Meta:
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        ordering = ["layer", "name", "feature_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["layer", "feature_number"],
                name="facility_unique_layer_feature_number",
            )
        ]
        indexes = [models.Index(fields=["layer", "unit"])]

    def __str__(self) -> str:
        return self.name or f"#{self.feature_number}"


class Indicator(models.Model):
    """A Kernindikator or other indicator: a formula over Datenpool variables."""

    class Direction(models.TextChoices):
        HIGHER_BETTER = "higher_better", _("higher is better")
        HIGHER_WORSE = "higher_worse", _("higher is worse")
        NEUTRAL = "neutral", _("neither")

    class Kind(models.TextChoices):
        SHARE = "share", _("Share or rate (change in percentage points)")
        QUANTITY = "quantity", _("Quantity (change in per cent)")

    variable = models.OneToOneField(
        Variable,
        on_delete=models.CASCADE,
        related_name="indicator",
        help_text=_(
            "The catalogue entry under which the values are stored and served."
        ),
    )
    code = models.CharField(
        _("Handbuch code"), max_length=10, blank=True, help_text=_("E.g. A1, B2.")
    )
    theme = models.CharField(_("theme"), max_length=20, choices=ProfileTheme.choices)
    formula = models.CharField(
        _("formula"),
        max_length=500,
        help_text=_("Arithmetic over variable keys, e.g. E_E65U80 / E_E * 100."),
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=Kind.choices, default=Kind.SHARE
    )
    direction = models.CharField(
        _("direction"),
        max_length=16,
        choices=Direction.choices,
        default=Direction.NEUTRAL,
    )
    denominator = models.ForeignKey(
        Variable,
        verbose_name=_("denominator variable"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_(
            "Its reference dates define the indicator's; below the minimum "
            "the value is not shown."
        ),
    )
    min_denominator = models.FloatField(_("minimum denominator"), default=0)
    max_input_age_days = models.PositiveIntegerField(
        _("maximum age of other inputs (days)"),
        default=0,
        help_text=_(
            "0: all inputs of the same reference date; otherwise the latest "
            "value of each input at most this old is used."
        ),
    )
    is_core = models.BooleanField(_("Kernindikator"), default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)
    documentation = models.TextField(_("documentation"), blank=True)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["theme", "sort_order", "variable__key"]

    def __str__(self) -> str:
        return self.variable.name

    @property
    def key(self) -> str:
        return self.variable.key

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        try:
            formula_parse(self.formula)
        except FormulaError as exc:
            raise ValidationError({"formula": str(exc)}) from exc


class PublishedCell(models.Model):
    """A value that left the server in a pinned answer and stays readable there.

    Suppression treats such a value, while the current data still hold it, as
    known to everybody (``datapool.suppression_audit``): a correction of the same
    date never hides a cell that a pinned answer and a shown total give back.
    """

    variable = models.ForeignKey(
        Variable, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    unit = models.ForeignKey(LorUnit, on_delete=models.CASCADE, related_name="+")
    ref_date = models.DateField(_("reference date"))
    value = models.FloatField(_("value"))
    published_at = models.DateTimeField(_("first published"), auto_now_add=True)

    class Meta:
        verbose_name = _("published cell")
        verbose_name_plural = _("published cells")
        constraints = [
            models.UniqueConstraint(
                fields=["variable", "ref_date", "unit", "value"],
                name="published_cell_unique_variable_date_unit_value",
            )
        ]

    def __str__(self) -> str:
        return f"{self.variable_id}/{self.unit_id}/{self.ref_date}: {self.value}"
