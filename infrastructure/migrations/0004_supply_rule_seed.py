"""The Berlin supply rules PRISMA starts with (editable in the admin afterwards).

Idempotent: a rule that exists keeps what an administrator edited. The facility
types are created with the same defaults as ``infrastructure.types`` if missing.
"""

from decimal import Decimal

from django.db import migrations

TYPES = {
    "kita": {
        "name": "Kindertagesstätte",
        "capacity_unit": "Plätze",
        "demand_group": "Kinder unter 6 Jahren",
    },
    "spielplatz": {
        "name": "Spielplatz",
        "capacity_unit": "m² Nettospielfläche",
        "demand_group": "alle Einwohner (Kernindikator KI_SPIELPLATZ)",
        "supply_variable": "INF_SPIELPLATZ_M2",
        "source": "Geoportal Berlin, Grünflächeninformationssystem (SenMVKU), "
        "Spielplatzbestand",
        "license": "dl-de/by-2-0 (Geoportal Berlin)",
    },
    "gruenanlage": {
        "name": "Öffentliche Grünanlage",
        "capacity_unit": "m²",
        "demand_group": "alle Einwohner (Kernindikator KI_GRUEN)",
        "supply_variable": "INF_GRUEN_M2",
        "source": "Geoportal Berlin, Grünflächeninformationssystem (SenMVKU), "
        "Grünanlagenbestand",
        "license": "dl-de/by-2-0 (Geoportal Berlin)",
    },
}

UMWELTATLAS = (
    "Umweltatlas Berlin, Karte 06.05 „Versorgung mit öffentlichen, wohnungsnahen "
    "Grünanlagen“ (SenStadt/SenUVK, Ausgaben 2012–2020, Methode), nach den "
    "Orientierungswerten der Ständigen Konferenz der Gartenamtsleiter (GALK) und "
    "dem Landschaftsprogramm Berlin"
)

RULES = [
    {
        "key": "kita",
        "type": "kita",
        "name": "Kita-Plätze für Kinder von 1 bis unter 6 Jahren",
        "demand_formula": "E_E1U6",
        "demand_label": "Kinder von 1 bis unter 6 Jahren",
        "richtwert": Decimal("1"),
        "richtwert_unit": "Plätze je Kind",
        "richtwert_source": (
            "Annahme: ein Platz je Kind mit Rechtsanspruch auf Förderung in einer "
            "Tageseinrichtung (§ 24 Abs. 2 und 3 SGB VIII: vom vollendeten ersten "
            "Lebensjahr bis zum Schuleintritt). Die Senatsverwaltung für Bildung, "
            "Jugend und Familie plant mit Zielbetreuungsquoten je Bezirksregion "
            "(Kindertagesstättenentwicklungsplanung, Mitteilung zur Kenntnisnahme "
            "zu Drs. 18/2400 (B.66), 2020); diese Quoten liegen PRISMA nicht vor. "
            "Mit einer Quote unter 100 % hier den Richtwert ändern (z. B. 0,9)."
        ),
        "richtwert_is_assumption": True,
        "catchment_m": 1000,
        "catchment_source": (
            "Annahme: rund 15 Minuten Fußweg mit einem Kleinkind; für Kitas ist "
            "in Berlin keine Entfernung als Richtwert festgelegt."
        ),
        "min_capacity": None,
    },
    {
        "key": "spielplatz",
        "type": "spielplatz",
        "name": "Öffentliche Spielplatzfläche",
        "demand_formula": "E_E",
        "demand_label": "Einwohnerinnen und Einwohner",
        "richtwert": Decimal("1"),
        "richtwert_unit": "m² nutzbare Spielfläche je Einwohner",
        "richtwert_source": (
            "§ 4 Abs. 1 Gesetz über öffentliche Kinderspielplätze "
            "(Kinderspielplatzgesetz, KSpG) Berlin: Richtwert 1 m² nutzbare "
            "Spielfläche öffentlicher Spielplätze je Einwohner; die Senatsverwaltung "
            "berechnet den Versorgungsgrad als Bestand / Bedarf (berlin.de, "
            "Kinderspielplätze: Versorgung mit öffentlicher Spielplatzfläche)."
        ),
        "richtwert_is_assumption": False,
        "catchment_m": 500,
        "catchment_source": (
            "Annahme: wie der Einzugsbereich der wohnungsnahen Grünanlagen "
            "(500 m); das Kinderspielplatzgesetz nennt keine Entfernung."
        ),
        "min_capacity": None,
    },
    {
        "key": "gruen_wohnungsnah",
        "type": "gruenanlage",
        "name": "Wohnungsnahe öffentliche Grünanlagen",
        "demand_formula": "E_E",
        "demand_label": "Einwohnerinnen und Einwohner",
        "richtwert": Decimal("6"),
        "richtwert_unit": "m² Grünfläche je Einwohner",
        "richtwert_source": (
            UMWELTATLAS + ": 6 m² wohnungsnahe öffentliche Grünfläche je Einwohner "
            "aus Anlagen ab 0,5 ha im Einzugsbereich von 500 m; Anlagen über 10 ha "
            "zählen auch wohnungsnah."
        ),
        "richtwert_is_assumption": False,
        "catchment_m": 500,
        "catchment_source": UMWELTATLAS + ": Einzugsbereich 500 m.",
        "min_capacity": Decimal("5000"),
    },
    {
        "key": "gruen_siedlungsnah",
        "type": "gruenanlage",
        "name": "Siedlungsnahe öffentliche Grünanlagen",
        "demand_formula": "E_E",
        "demand_label": "Einwohnerinnen und Einwohner",
        "richtwert": Decimal("7"),
        "richtwert_unit": "m² Grünfläche je Einwohner",
        "richtwert_source": (
            UMWELTATLAS + ": 7 m² siedlungsnahe öffentliche Grünfläche je "
            "Einwohner aus Anlagen ab 10 ha im Einzugsbereich von 1.000 m."
        ),
        "richtwert_is_assumption": False,
        "catchment_m": 1000,
        "catchment_source": UMWELTATLAS + ": Einzugsbereich 1.000 m.",
        "min_capacity": Decimal("100000"),
    },
]


def seed(apps, schema_editor):
    FacilityType = apps.get_model("infrastructure", "FacilityType")
    SupplyRule = apps.get_model("infrastructure", "SupplyRule")
    for rule in RULES:
        fields = dict(rule)
        type_key = fields.pop("type")
        facility_type, _ = FacilityType.objects.get_or_create(
            key=type_key, defaults=TYPES[type_key]
        )
        key = fields.pop("key")
        SupplyRule.objects.get_or_create(
            key=key, defaults={**fields, "facility_type": facility_type}
        )


def unseed(apps, schema_editor):
    SupplyRule = apps.get_model("infrastructure", "SupplyRule")
    SupplyRule.objects.filter(key__in=[r["key"] for r in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("infrastructure", "0003_supply_rule")]

    operations = [migrations.RunPython(seed, unseed)]
