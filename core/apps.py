from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    """Roles, staff profiles and the audit log: what every PRISMA app may use."""

    name = "core"
    verbose_name = "PRISMA"

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from .access import role_groups_ensure
        from .login_throttle import login_lockout_audit

        # Runs after Django's own post_migrate handler has created permissions.
        post_migrate.connect(role_groups_ensure, dispatch_uid="prisma_role_groups")
        # Signals only integrate the third-party login throttle (django-axes).
        user_locked_out.connect(login_lockout_audit, dispatch_uid="prisma_lockout")
