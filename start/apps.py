from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StartConfig(AppConfig):
    """The start page: what each role can do here, search, latest deliveries."""

    name = "start"
    verbose_name = _("Start page")
