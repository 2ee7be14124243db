from django.apps import AppConfig


class PrismaConfig(AppConfig):
    """The project package.

    It is an installed app only for its migrations: they created the tables of
    saved queries, staff profiles and the audit log before those models moved to
    ``queries`` and ``core`` (same tables), so existing databases keep their
    history.
    """

    name = "prisma"
    verbose_name = "PRISMA"
