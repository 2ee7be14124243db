from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_migrate


def _forget_map_session(sender, request, **kwargs) -> None:
    from .response_cache import session_forget

    session_forget(getattr(getattr(request, "session", None), "session_key", None))


class PrismaConfig(AppConfig):
    name = "prisma"
    verbose_name = "PRISMA"

    def ready(self) -> None:
        from .access import role_groups_ensure

        # Runs after Django's own post_migrate handler has created permissions.
        post_migrate.connect(role_groups_ensure, dispatch_uid="prisma_role_groups")
        # The value APIs remember verified sessions for a few seconds.
        user_logged_out.connect(_forget_map_session, dispatch_uid="prisma_map_logout")
