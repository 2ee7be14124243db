"""Staff profiles and the audit log, moved from the project package (same tables)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODELS = ["staffprofile", "auditevent"]


def content_types_move(apps, schema_editor):
    """Keep the content types (and so permissions and admin history) of the models."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label="core", model=model).exists():
            ContentType.objects.filter(app_label="prisma", model=model).update(
                app_label="core"
            )


def content_types_return(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="core", model__in=MODELS).update(
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
                    name="StaffProfile",
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
                            "bezirk",
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
                            "user",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="staff_profile",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="user",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "staff profile",
                        "verbose_name_plural": "staff profiles",
                        "db_table": "prisma_staffprofile",
                    },
                ),
                migrations.CreateModel(
                    name="AuditEvent",
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
                            "at",
                            models.DateTimeField(
                                auto_now_add=True, db_index=True, verbose_name="at"
                            ),
                        ),
                        (
                            "username",
                            models.CharField(
                                blank=True, max_length=150, verbose_name="user name"
                            ),
                        ),
                        (
                            "action",
                            models.CharField(
                                choices=[
                                    ("import", "Import"),
                                    ("create", "Create"),
                                    ("change", "Change"),
                                    ("delete", "Delete"),
                                    ("export", "Export"),
                                    ("release", "Release"),
                                    ("withdraw", "Withdraw release"),
                                    ("status", "Status change"),
                                ],
                                max_length=16,
                                verbose_name="action",
                            ),
                        ),
                        (
                            "object_type",
                            models.CharField(
                                blank=True, max_length=100, verbose_name="object type"
                            ),
                        ),
                        (
                            "object_id",
                            models.CharField(
                                blank=True, max_length=64, verbose_name="object id"
                            ),
                        ),
                        (
                            "object_label",
                            models.CharField(
                                blank=True, max_length=300, verbose_name="object"
                            ),
                        ),
                        (
                            "details",
                            models.JSONField(
                                blank=True, default=dict, verbose_name="details"
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="user",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "audit event",
                        "verbose_name_plural": "audit events",
                        "db_table": "prisma_auditevent",
                        "ordering": ["-at", "-pk"],
                        "indexes": [
                            models.Index(
                                fields=["object_type", "object_id"],
                                name="prisma_audi_object__1024e4_idx",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, content_types_return),
    ]
