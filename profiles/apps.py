from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProfilesConfig(AppConfig):
    name = "profiles"
    verbose_name = _("Bezirksregionenprofile")

    def ready(self) -> None:
        # Funding sits below profiles and never imports them: the report asks
        # the providers registered here for the goals linked to its projects.
        from funding.report import goal_link_provider_register

        from .selectors import profile_goal_links

        goal_link_provider_register(profile_goal_links)
