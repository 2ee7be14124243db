from django.core.management.base import BaseCommand, CommandError

from infrastructure.supply import SupplyError
from infrastructure.supply_publish import supply_publish_all


class Command(BaseCommand):
    help = (
        "Compute the supply analysis (Versorgungsanalyse) of every active supply "
        "rule for every date with demand data and publish it into the Datenpool; "
        "publish the register's facilities with a location as facility layers. "
        "Running it again replaces the published values (idempotent)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "rules", nargs="*", metavar="RULE", help="Rule keys (default: all active)."
        )

    def handle(self, *args, **options) -> None:
        verbose = options["verbosity"] >= 1
        try:
            result = supply_publish_all(rule_keys=options["rules"] or None)
        except SupplyError as exc:
            raise CommandError(str(exc)) from exc
        if not verbose:
            return
        for summary in result["rules"]:
            if summary.get("no_facilities"):
                self.stdout.write(
                    f"  {summary['rule']}: keine Einrichtungen mit Kapazität im "
                    "Register, nichts veröffentlicht"
                )
                continue
            if not summary["dates"]:
                self.stdout.write(
                    f"  {summary['rule']}: keine Stichtage mit Nachfragedaten"
                )
                continue
            if summary.get("unchanged"):
                self.stdout.write(f"  {summary['rule']}: unverändert veröffentlicht")
                continue
            counted = ", ".join(
                f"{on}: {n}" for on, n in summary["facilities_counted"].items()
            )
            self.stdout.write(
                f"  {summary['rule']}: {summary['values']} Werte, Einrichtungen "
                f"gezählt ({counted}); Indikatoren: "
                f"{', '.join(summary['indicators']) or 'keine'}"
            )
