"""The four PRISMA roles as groups with model permissions for the admin site.

Role checks in views, API and services go through ``prisma.access``; these
permissions decide what each group may do in the Django admin (staff users).
"""

from django.db import migrations

GROUPS = {
    "Administration": {
        "apps": {"auth", "authtoken", "datapool", "lor", "prisma", "profiles"}
    },
    "Datenkoordination": {
        "perms": {
            "datapool": {
                "variable": ("view", "change"),
                "importrun": ("view", "add", "change"),
                "supplier": ("view",),
                "delivery": ("view",),
                "facilitylayer": ("view",),
                "indicator": ("view",),
            },
            "prisma": {"savedquery": ("view", "add", "change", "delete")},
        }
    },
    "Planung": {
        "perms": {
            "datapool": {"variable": ("view",), "indicator": ("view",)},
            "prisma": {"savedquery": ("view", "add", "change", "delete")},
        }
    },
    "Gastbegutachtung": {"perms": {"datapool": {"variable": ("view",)}}},
}


def create_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, spec in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        if "apps" in spec:
            perms = Permission.objects.filter(content_type__app_label__in=spec["apps"])
        else:
            ids = []
            for app_label, models in spec["perms"].items():
                for model, actions in models.items():
                    ids += Permission.objects.filter(
                        content_type__app_label=app_label,
                        content_type__model=model,
                        codename__in=[f"{a}_{model}" for a in actions],
                    ).values_list("pk", flat=True)
            perms = Permission.objects.filter(pk__in=ids)
        group.permissions.add(*perms)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("prisma", "0003_audit_event"),
        ("datapool", "0006_variable_released"),
        ("lor", "0002_custom_areas"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
