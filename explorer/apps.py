from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExplorerConfig(AppConfig):
    """Thematic maps, the analysis page, exports, charts and custom areas."""

    name = "explorer"
    verbose_name = _("Explorer")
