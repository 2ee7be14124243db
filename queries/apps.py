from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QueriesConfig(AppConfig):
    """Saved queries: selections kept with their inquiry to answer it again."""

    name = "queries"
    verbose_name = _("Saved queries")
