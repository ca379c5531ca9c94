#!/usr/bin/env python3
"""Build the djauth demo database with a real Django.

Usage: make_demo_db.py PATH/TO/db.sqlite3

The file is created from scratch (an existing one is replaced): Django's own
migrations create the schema, and Django's own hashers write the passwords, so
every row is exactly what a Django 5.2 project would have stored. Each user's
password is hashed with a different one of Django 5.2's default hashers so the
demo exercises several encoded formats. The users are listed in README.md.
"""

import os
import sys
import unicodedata

import django
from django.conf import global_settings, settings


def configure(db_path):
    settings.configure(
        DEBUG=False,
        SECRET_KEY="djauth-demo-not-secret",
        USE_TZ=True,
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
        ],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": db_path,
            }
        },
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        # Django 5.2's default list, spelled out by taking it from Django itself.
        PASSWORD_HASHERS=list(global_settings.PASSWORD_HASHERS),
    )
    django.setup()


# (username, password or None for unusable, hasher algorithm, active, groups, extra flags)
USERS = [
    ("alice", "alice-pw", "pbkdf2_sha256", True, ["secret-agents"], {}),
    ("bob", "bob-pw", "argon2", True, [], {}),
    ("carol", "carol-pw", "scrypt", False, [], {}),
    ("józef", "Pässwörd-123", "bcrypt_sha256", True, [], {}),
    ("dave", None, None, True, [], {}),
    ("erin", "erin-pw", "pbkdf2_sha256", True, ["secret agents"], {}),
    ("frank", "frank-pw", "pbkdf2_sha256", True, ["staff-team"], {"is_staff": True, "is_superuser": True}),
]


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: make_demo_db.py PATH/TO/db.sqlite3\n")
        return 2
    db_path = os.path.abspath(argv[1])
    if os.path.exists(db_path):
        os.unlink(db_path)
    configure(db_path)

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import check_password, identify_hasher, make_password
    from django.contrib.auth.models import Group, Permission
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)

    User = get_user_model()

    staff_team = Group.objects.create(name="staff-team")
    staff_team.permissions.add(Permission.objects.get(content_type__app_label="auth", codename="view_user"))
    Group.objects.create(name="secret-agents")
    Group.objects.create(name="secret agents")

    for username, password, algorithm, active, groups, flags in USERS:
        # Usernames are stored NFC-normalised (Django applies NFKC on save, which
        # is the same thing for these names); the literal above is already NFC.
        assert unicodedata.is_normalized("NFC", username)
        user = User.objects.create_user(username, email=f"{username}@example.invalid", **flags)
        if password is None:
            user.set_unusable_password()
        else:
            # make_password(hasher=...) picks one of the enabled hashers by its
            # algorithm name, as if it were first in PASSWORD_HASHERS.
            user.password = make_password(password, hasher=algorithm)
        user.is_active = active
        user.save()
        for name in groups:
            user.groups.add(Group.objects.get(name=name))

    # Self-check with Django as the oracle: every stored hash has the intended
    # format and verifies the documented password.
    for username, password, algorithm, active, groups, flags in USERS:
        user = User.objects.get(username=username)
        if password is None:
            assert not user.has_usable_password(), username
            continue
        assert identify_hasher(user.password).algorithm == algorithm, username
        assert check_password(password, user.password), username
        assert not check_password(password + "x", user.password), username
        print(f"{username:8} active={str(user.is_active):5} {algorithm:14} groups={groups}")
    print(f"wrote {db_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
