"""SavedQuery moved to ``queries``, StaffProfile and AuditEvent to ``core``."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("queries", "0001_initial"),
        ("prisma", "0004_role_groups"),
    ]

    operations = [
        # The models live on in core and queries on the same tables: forget them
        # here without dropping anything.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="savedquery",
                    name="district",
                ),
                migrations.RemoveField(
                    model_name="savedquery",
                    name="owner",
                ),
                migrations.RemoveField(
                    model_name="staffprofile",
                    name="bezirk",
                ),
                migrations.RemoveField(
                    model_name="staffprofile",
                    name="user",
                ),
                migrations.DeleteModel(
                    name="AuditEvent",
                ),
                migrations.DeleteModel(
                    name="SavedQuery",
                ),
                migrations.DeleteModel(
                    name="StaffProfile",
                ),
            ],
            database_operations=[],
        ),
    ]
