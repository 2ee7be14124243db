from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create or reset the demo login (local settings only)."

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
        self.stdout.write(
            f"Demo-Anmeldung {'angelegt' if created else 'erneuert'}: {username}"
        )
