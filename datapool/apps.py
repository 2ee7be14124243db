from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DatapoolConfig(AppConfig):
    name = "datapool"
    verbose_name = _("Datenpool")
