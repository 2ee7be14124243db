from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LorConfig(AppConfig):
    name = "lor"
    verbose_name = _("LOR units")
