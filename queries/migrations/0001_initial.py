"""Saved queries, moved from the project package (same table)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODELS = ["savedquery"]


def content_types_move(apps, schema_editor):
    """Keep the content types (and so permissions and admin history) of the models."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label="queries", model=model).exists():
            ContentType.objects.filter(app_label="prisma", model=model).update(
                app_label="queries"
            )


def content_types_return(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="queries", model__in=MODELS).update(
        app_label="prisma"
    )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("prisma", "0004_role_groups"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("lor", "0002_custom_areas"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # State only: the tables exist already (created by the project package's
        # migrations) and keep their names, so no row moves.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SavedQuery",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "title",
                            models.CharField(max_length=200, verbose_name="title"),
                        ),
                        (
                            "description",
                            models.TextField(blank=True, verbose_name="description"),
                        ),
                        (
                            "inquiry_reference",
                            models.CharField(
                                blank=True,
                                help_text='E.g. "Drucksache 19/12345" or "BVV-Anfrage 0815/XXI".',
                                max_length=120,
                                verbose_name="inquiry reference",
                            ),
                        ),
                        (
                            "sharing",
                            models.CharField(
                                choices=[
                                    ("private", "Private"),
                                    ("district", "District"),
                                    ("staff", "All staff"),
                                ],
                                default="private",
                                max_length=16,
                                verbose_name="sharing",
                            ),
                        ),
                        ("selection", models.JSONField(verbose_name="selection")),
                        (
                            "presentation",
                            models.JSONField(
                                blank=True, default=dict, verbose_name="presentation"
                            ),
                        ),
                        (
                            "pinned",
                            models.BooleanField(default=False, verbose_name="pinned"),
                        ),
                        (
                            "pinned_at",
                            models.DateTimeField(
                                blank=True, null=True, verbose_name="pinned at"
                            ),
                        ),
                        (
                            "snapshot",
                            models.JSONField(
                                blank=True, null=True, verbose_name="pinned answer"
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "district",
                            models.ForeignKey(
                                blank=True,
                                limit_choices_to={"level": "bezirk"},
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="lor.lorunit",
                                verbose_name="district",
                            ),
                        ),
                        (
                            "owner",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="saved_queries",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="owner",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "saved query",
                        "verbose_name_plural": "saved queries",
                        "db_table": "prisma_savedquery",
                        "ordering": ["-updated_at", "-pk"],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("pinned", False),
                                    models.Q(
                                        ("pinned_at__isnull", False),
                                        ("snapshot__isnull", False),
                                    ),
                                    _connector="OR",
                                ),
                                name="saved_query_pinned_has_snapshot",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, content_types_return),
    ]
