#!/usr/bin/env python3
"""Add one user to a copy of the demo database, with a real Django 5.2.

Usage (with the Python of .venv-django52): add_gina.py PATH/TO/db.sqlite3

The demo database (examples/demo) has a permission only through frank, who
is also a superuser, so a perm: rule could pass for the wrong reason. gina
(password gina-pw, Django's default hasher and cost) is an ordinary active
user in the group staff-team, which holds auth.view_user: she has that
permission through her group only. Django itself checks it before exiting.
"""

import sys

import django
from django.conf import global_settings, settings


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: add_gina.py PATH/TO/db.sqlite3\n")
        return 2
    settings.configure(
        SECRET_KEY="djauth-external-test-not-secret",
        USE_TZ=True,
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": argv[1]}},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        PASSWORD_HASHERS=list(global_settings.PASSWORD_HASHERS),
    )
    django.setup()

    from django.contrib.auth.models import Group, User

    gina = User.objects.create_user("gina", email="gina@example.invalid", password="gina-pw")
    gina.groups.add(Group.objects.get(name="staff-team"))
    gina = User.objects.get(username="gina")
    assert gina.has_perm("auth.view_user") and not gina.is_superuser and not gina.is_staff
    assert gina.check_password("gina-pw")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
