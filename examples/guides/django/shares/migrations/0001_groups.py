"""The groups Apache asks djauth about: "analysts" may read /media/reports/,
"editors" may change the WebDAV share, "viewers" may read it."""

from django.db import migrations

GROUPS = ["analysts", "editors", "viewers"]


def add_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in GROUPS:
        Group.objects.get_or_create(name=name)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(add_groups, remove_groups)]
