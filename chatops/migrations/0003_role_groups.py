"""Create the three role groups: operations manager, agent, client user."""

from django.db import migrations

ROLES = ("operations manager", "agent", "client user")


def create_role_groups(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    for name in ROLES:
        group_model.objects.get_or_create(name=name)


def remove_role_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("chatops", "0002_initial"),
    ]

    operations = [migrations.RunPython(create_role_groups, remove_role_groups)]
