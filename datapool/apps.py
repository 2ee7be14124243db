from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_out
from django.utils.translation import gettext_lazy as _


def _forget_map_session(sender, request, **kwargs) -> None:
    from .response_cache import session_forget

    session_forget(getattr(getattr(request, "session", None), "session_key", None))


class DatapoolConfig(AppConfig):
    name = "datapool"
    verbose_name = _("Datenpool")

    def ready(self) -> None:
        # The value APIs remember verified sessions for a few seconds.
        user_logged_out.connect(_forget_map_session, dispatch_uid="prisma_map_logout")
