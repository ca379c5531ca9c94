#!/usr/bin/env python3
"""Build the database of the tests/jobs suite with a real Django 5.2.

Usage (with the Python of .venv-django52): make_jobs_db.py PATH/TO/db.sqlite3

The project is the one the guides describe: Django's auth plus the two small
apps under examples/guides/django/ (`svn`: a model whose migrations create
the permissions svn.view_repo and svn.commit_repo and the group
svn-committers; `shares`: a data migration creating the groups analysts,
editors and viewers). `migrate` builds everything, as it would for a Django
admin; then the users below are created through Django's ORM. The file is
replaced if it exists. Prints one JSON object: {username: {"hasher": ...}}.

Every password is USERNAME-pw. Users marked "django" get Django 5.2's
default PBKDF2 cost (1,000,000 iterations), the others a 1,000-iteration
PBKDF2 hash (same algorithm, cheap) so that the suite stays fast where the
job is not about hashing.
"""

import json
import os
import sys
from pathlib import Path

import django
from django.conf import settings

GUIDE_PROJECT = Path(__file__).resolve().parents[2] / "examples" / "guides" / "django"

# username: (groups, user permissions, flags, hasher)
USERS = {
    # media
    "mia": ([], [], {}, "fast"),
    "ana": (["analysts"], [], {}, "fast"),
    "ivan": (["analysts"], [], {"is_active": False}, "fast"),
    # subversion
    "reader": ([], ["svn.view_repo"], {}, "fast"),
    "committer": ([], ["svn.commit_repo"], {}, "fast"),
    "grace": (["svn-committers"], [], {}, "fast"),
    "root": ([], [], {"is_superuser": True, "is_staff": True}, "fast"),
    "ingrid": (["svn-committers"], ["svn.view_repo", "svn.commit_repo"], {"is_active": False}, "fast"),
    "nora": ([], [], {}, "fast"),
    # webdav
    "edith": (["editors"], [], {}, "fast"),
    "victor": (["viewers"], [], {}, "fast"),
    "ines": (["editors"], [], {"is_active": False}, "fast"),
    # the KDF count: Django's real default cost, one pair per Apache door
    "slowreader-module": ([], ["svn.view_repo"], {}, "django"),
    "slowcommitter-module": (["svn-committers"], [], {}, "django"),
    "slowreader-fcgi": ([], ["svn.view_repo"], {}, "django"),
    "slowcommitter-fcgi": (["svn-committers"], [], {}, "django"),
    "slowmedia-module": ([], [], {}, "django"),
    "slowmedia-fcgi": ([], [], {}, "django"),
}
FAST_ITERATIONS = 1000


def configure(db_path):
    sys.path.insert(0, str(GUIDE_PROJECT))
    settings.configure(
        DEBUG=False,
        SECRET_KEY="djauth-jobs-not-secret",
        USE_TZ=True,
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "svn", "shares"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": db_path}},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: make_jobs_db.py PATH/TO/db.sqlite3\n")
        return 2
    db_path = os.path.abspath(argv[1])
    if os.path.exists(db_path):
        os.unlink(db_path)
    configure(db_path)

    from django.contrib.auth.hashers import PBKDF2PasswordHasher, check_password, make_password
    from django.contrib.auth.models import Group, Permission, User
    from django.core.management import call_command

    # The apps' migrations match their models (as `makemigrations --check` says).
    call_command("makemigrations", "svn", "shares", check=True, dry_run=True, verbosity=0)
    call_command("migrate", verbosity=0, interactive=False)

    fast = PBKDF2PasswordHasher()
    out = {}
    for username, (groups, perms, flags, hasher) in USERS.items():
        password = f"{username}-pw"
        user = User.objects.create_user(username, **flags)
        if hasher == "fast":
            user.password = fast.encode(password, fast.salt(), iterations=FAST_ITERATIONS)
        else:
            user.password = make_password(password)  # Django's default hasher and cost
        user.save()
        user.groups.set(Group.objects.get(name=name) for name in groups)
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        # Django is the oracle: the password verifies, and has_perm says what
        # the rules of the guides expect.
        user = User.objects.get(pk=user.pk)
        assert check_password(password, user.password), username
        out[username] = {
            "hasher": user.password.split("$", 2)[0] + "$" + user.password.split("$", 2)[1],
            "is_active": user.is_active,
            "view_repo": user.has_perm("svn.view_repo"),
            "commit_repo": user.has_perm("svn.commit_repo"),
            "groups": sorted(user.groups.values_list("name", flat=True)),
        }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
