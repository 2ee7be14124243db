from django.apps import AppConfig


class PrismaConfig(AppConfig):
    name = "prisma"
    verbose_name = "PRISMA"
