from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from core.access import Role, user_assign, user_role_line

# One demo login per further role, with the demo password: name, role, district.
ROLE_DEMOS = [
    ("demo-koordination", Role.COORDINATOR, "02"),
    ("demo-planung", Role.PLANNER, "02"),
    ("demo-gast", Role.GUEST, None),
]


class Command(BaseCommand):
    help = "Create or reset the demo logins (local settings only)."

    def handle(self, *args, **options) -> None:
        username = getattr(settings, "PRISMA_DEMO_USER", None)
        password = getattr(settings, "PRISMA_DEMO_PASSWORD", None)
        if not username or not password:
            raise CommandError("The demo login exists only with prisma.settings.local.")
        user, created = get_user_model().objects.get_or_create(username=username)
        user.set_password(password)
        user.is_staff = True
        user.is_superuser = True
        user.save()
        user_assign(user=user, role=Role.ADMIN)
        self.stdout.write(
            f"Demo-Anmeldung {'angelegt' if created else 'erneuert'}: {username}"
        )
        demos = []
        for name, role, bezirk in ROLE_DEMOS:
            demo, _created = get_user_model().objects.get_or_create(username=name)
            demo.set_password(password)
            demo.is_superuser = False
            demo.save()
            user_assign(user=demo, role=role, bezirk_code=bezirk)
            with translation.override("de"):
                demos.append(f"{name} ({user_role_line(demo)})")
        self.stdout.write(
            "Weitere Demo-Rollen (gleiches Passwort): " + ", ".join(demos)
        )
