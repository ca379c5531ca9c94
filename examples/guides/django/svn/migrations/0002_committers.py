"""A group "svn-committers" holding both Subversion permissions.

Django creates permissions after all migrations have run (post_migrate), so
on a fresh database they do not exist yet here: create_permissions makes
them now (it does nothing for those that already exist).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = ["view_repo", "commit_repo"]


def add_group(apps, schema_editor):
    app_config = apps.get_app_config("svn")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="svn-committers")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="svn", codename__in=PERMISSIONS)
    )


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="svn-committers").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("svn", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(add_group, remove_group)]
