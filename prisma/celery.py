"""Celery application: imports and computations run here, fed through Redis."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prisma.settings.local")

app = Celery("prisma")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
